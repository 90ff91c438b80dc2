"""Seeded example inputs for the demo firm: a strategy backtest, the configurations tried for it, and the
prediction log and training sample of the classifier behind it. Every generator is seeded, so a seed gives
the same file on every run (the demo stays idempotent and its hashes stable)."""

import zlib

import numpy as np

DAYS = 756  # three years of trading days
FEATURES = ("card_spend_z", "momentum_z")  # the classifier's two inputs, named as in its training sample


def _business_days(start="2023-01-02", n=DAYS):
    return np.busday_offset(np.datetime64(start), np.arange(n), roll="forward")


def backtest_csv(seed: int = 11) -> bytes:
    """Daily returns of a modest strategy whose volatility doubles in a stressed second half of each year."""
    rng = np.random.default_rng(seed)
    days = _business_days()
    stressed = (days.astype("datetime64[M]").astype(int) % 12) >= 6
    returns = rng.normal(0.0005, 0.008, DAYS) * np.where(stressed, 1.8, 1.0)
    benchmark = rng.normal(0.0003, 0.01, DAYS) * np.where(stressed, 1.6, 1.0)
    lines = [f"{d},{r:.7f},{b:.7f}" for d, r, b in zip(days, returns, benchmark, strict=True)]
    return ("timestamp,return,benchmark\n" + "\n".join(lines) + "\n").encode()


def trials_csv(seed: int = 12, trials: int = 24) -> bytes:
    """The returns of every configuration the developer tried (one column each), mostly noise."""
    rng = np.random.default_rng(seed)
    days = _business_days()
    matrix = rng.normal(0.0002, 0.009, (DAYS, trials))
    header = "timestamp," + ",".join(f"config_{i + 1:02d}" for i in range(trials))
    lines = [f"{d}," + ",".join(f"{v:.7f}" for v in row) for d, row in zip(days, matrix, strict=True)]
    return (header + "\n" + "\n".join(lines) + "\n").encode()


def _predictions(rng, n, shift=0.0):
    """Two features, a label that depends on them weakly, and a classifier's score for it."""
    spend = rng.normal(shift, 1.0, n)
    momentum = rng.normal(0.0, 1.0, n)
    signal = 0.35 * spend + 0.15 * momentum
    y_true = (signal + rng.normal(0.0, 1.0, n) > 0).astype(int)
    y_score = 1.0 / (1.0 + np.exp(-(signal + rng.normal(0.0, 0.4, n))))
    return spend, momentum, y_true, y_score


def prediction_log_csv(seed: int = 13, features: tuple[str, str] = FEATURES) -> bytes:
    """What the model predicted each day (will the next day's trade be profitable?) and what happened."""
    rng = np.random.default_rng(seed)
    days = _business_days()
    spend, momentum, y_true, y_score = _predictions(rng, DAYS, shift=0.1)
    volatility = np.abs(rng.normal(0.012, 0.004, DAYS))
    lines = [
        f"{d},{t},{int(s >= 0.5)},{s:.5f},{v:.5f},{a:.5f},{b:.5f}"
        for d, t, s, v, a, b in zip(days, y_true, y_score, volatility, spend, momentum, strict=True)
    ]
    header = f"timestamp,y_true,y_pred,y_score,volatility,{features[0]},{features[1]}"
    return (header + "\n" + "\n".join(lines) + "\n").encode()


def training_sample_csv(seed: int = 14, rows: int = 2000, features: tuple[str, str] = FEATURES) -> bytes:
    """The features the model was trained on (for the stability tests: PSI and KS per feature)."""
    rng = np.random.default_rng(seed)
    spend, momentum, y_true, y_score = _predictions(rng, rows)
    lines = [f"{a:.5f},{b:.5f},{t},{s:.5f}" for a, b, t, s in zip(spend, momentum, y_true, y_score, strict=True)]
    return (f"{features[0]},{features[1]},y_true,y_score\n" + "\n".join(lines) + "\n").encode()


# What each demo classifier reads, so its prediction log and training sample name believable features.
MODEL_FEATURES = {
    "eq-card-spend": FEATURES,
    "eq-earnings-nlp": ("call_sentiment_z", "guidance_revision_z"),
    "rates-auction-tail": ("bid_to_cover_z", "when_issued_spread_z"),
    "risk-stress-ml": ("vix_level_z", "credit_spread_z"),
    # The live models: the demo's feed (monitoring_feed.py) sends each the features its validation files name.
    "eq-momentum-us": ("momentum_20d", "volume_z"),
    "credit-default-prob": ("leverage_z", "interest_cover_z"),
    "fx-carry-g10": ("rate_differential_z", "momentum_z"),
}


def evidence_for(key: str, parts: list[str]) -> list[tuple[str, bytes, str, str]]:
    """The files a validation run of model `key` reads, for the parts of its plan (see plans.parts):
    returns and the configurations tried for a strategy, a prediction log and a training sample for a
    classifier or regressor. As (file name, content, evidence kind, description); seeded by the key."""
    seed = zlib.crc32(key.encode()) % 10_000
    features = MODEL_FEATURES.get(key, FEATURES)
    files = []
    if "strategy" in parts:
        files += [
            (f"{key}-backtest.csv", backtest_csv(seed), "backtest", "Daily backtest 2023-2025"),
            (f"{key}-trials.csv", trials_csv(seed + 1), "trial_returns", "All 24 configurations tried"),
        ]
    if {"classifier", "regressor"} & set(parts):
        files += [
            (
                f"{key}-predictions.csv",
                prediction_log_csv(seed + 2, features),
                "dataset",
                "Daily predictions 2023-2025",
            ),
            (f"{key}-training.csv", training_sample_csv(seed + 3, features=features), "dataset", "Training sample"),
        ]
    return files

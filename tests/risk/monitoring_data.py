"""Seeded synthetic live data for monitor tests: predictions with outcomes, and trades, stored as the API
stores them (through the ingest services)."""

import datetime as dt

import numpy as np

from risk.monitoring import services


def predictions(
    actor,
    version,
    n,
    *,
    start,
    every=dt.timedelta(minutes=1),
    accuracy=0.7,
    shift=0.0,
    seed=1,
    first_id=0,
    labelled=True,
):
    """n predictions of a classifier that is right `accuracy` of the time, with features f1, f2 (f1 shifted by
    `shift` standard deviations), and their outcomes when `labelled`."""
    rng = np.random.default_rng(seed)
    rows, outcomes = [], []
    for i in range(n):
        truth = int(rng.random() < 0.5)
        right = rng.random() < accuracy
        predicted = truth if right else 1 - truth
        score = float(np.clip(0.5 + (0.3 if predicted else -0.3) + rng.normal(0, 0.1), 0.01, 0.99))
        pid = f"p-{first_id + i}"
        rows.append(
            {
                "id": pid,
                "timestamp": _z(start + i * every),
                "features": {"f1": float(rng.normal(shift, 1)), "f2": float(rng.normal(0, 1))},
                "prediction": predicted,
                "score": score,
            }
        )
        outcomes.append({"id": pid, "outcome": truth})
    for chunk in range(0, n, 5000):
        services.predictions_ingest(
            actor, version.model, {"version": version.version, "predictions": rows[chunk : chunk + 5000]}
        )
        if labelled:
            services.outcomes_ingest(
                actor, version.model, {"version": version.version, "outcomes": outcomes[chunk : chunk + 5000]}
            )


def trades(
    actor,
    version,
    n,
    *,
    start,
    every=dt.timedelta(minutes=30),
    win_rate=0.55,
    mean=20.0,
    sd=100.0,
    seed=2,
    first_id=0,
    slippage=(1.0, 1.0),
):
    """n trades whose P&L is normal(mean, sd) made positive `win_rate` of the time."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        size = abs(rng.normal(mean, sd)) + 1
        pnl = size if rng.random() < win_rate else -size
        rows.append(
            {
                "id": f"t-{first_id + i}",
                "timestamp": _z(start + i * every),
                "instrument": "SPY",
                "side": "buy",
                "quantity": 100,
                "price": 500.0,
                "pnl": float(pnl),
                "expected_slippage": slippage[0],
                "realised_slippage": slippage[1],
            }
        )
    for chunk in range(0, n, 5000):
        services.trades_ingest(actor, version.model, {"version": version.version, "trades": rows[chunk : chunk + 5000]})


def _z(moment: dt.datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")

"""Chart data of a run with every issue 23 section, in the format the engine stores (docs/architecture.md, the
CHARTS23 contract), for tests of the run page and the report: the display is tested from the data alone."""

import numpy as np


def every_chart(seed: int = 23) -> dict:
    rng = np.random.default_rng(seed)
    features = ["mom_20d", "vol_60d", "carry", "value_z", "rsi_14"]
    mean = sorted(rng.uniform(0.0, 0.09, len(features)).round(4).tolist(), reverse=True)
    half = rng.uniform(0.003, 0.012, len(features)).round(4).tolist()
    levels = [0.1, 0.25, 0.5]
    per_feature = {f: (np.array(levels) * m * 1.3).round(4).tolist() for f, m in zip(features, mean, strict=True)}
    time = [f"2025-01-{d:02d}T00:00:00" for d in range(1, 29)]
    equity = np.cumprod(1 + rng.normal(0.001, 0.01, len(time)))
    return {
        "equity": {
            "time": time,
            "equity": equity.round(5).tolist(),
            "drawdown": (equity / np.maximum.accumulate(equity) - 1).round(5).tolist(),
        },
        "roc": {"fpr": [0, 0.2, 0.5, 1], "tpr": [0, 0.6, 0.8, 1], "auc": 0.74},
        "calibration": {"mean_score": [0.1, 0.5, 0.9], "hit_rate": [0.15, 0.45, 0.8], "count": [40.0, 120.0, 35.0]},
        "confusion": {"tn": 300, "fp": 120, "fn": 90, "tp": 312},
        "psi": {"feature": features, "psi": [0.02, 0.31, 0.12, 0.05, 0.01], "ks": [0.03, 0.2, 0.1, 0.05, 0.02]},
        "importance": {
            "metric": "accuracy",
            "repeats": 5,
            "confidence": 0.95,
            "feature": features,
            "mean": mean,
            "low": [round(m - h, 4) for m, h in zip(mean, half, strict=True)],
            "high": [round(m + h, 4) for m, h in zip(mean, half, strict=True)],
        },
        "partial_dependence": {
            "output": "probability of class 1",
            "features": [
                {
                    "feature": f,
                    "grid": np.linspace(-1, 1, 7).round(3).tolist(),
                    "average": (0.5 + 0.1 * (i + 1) * np.tanh(np.linspace(-1, 1, 7))).round(4).tolist(),
                }
                for i, f in enumerate(features[:3])
            ],
        },  # fmt: skip
        "perturbation": {
            "metric": "accuracy",
            "baseline": 0.61,
            "levels": levels,
            "all_features": [0.02, 0.06, 0.12],
            "per_feature": per_feature,
            "missing": {f: round(m * 0.8, 4) for f, m in zip(features, mean, strict=True)},
        },
        "attributions": {
            "feature": features,
            "mean_abs": [0.021, 0.004, 0.013, 0.009, 0.001],
            "importance_rank": [1, 2, 3, 4, 5],
            "spearman": 0.7,
            "rows_checked": 756,
            "rows_off": 0,
            "worst_error": 1e-7,
            "tolerance": 1e-6,
        },
        "challenger": {
            "metric": "accuracy",
            "challenger_kind": "logistic regression (L2, standardised)",
            "model": 0.612,
            "challenger": 0.574,
            "uplift": 0.038,
            "low": 0.012,
            "high": 0.061,
            "confidence": 0.95,
            "required": 0.02,
            "complexity": "high",
        },
        "scenarios": {
            "whole": {"sharpe": 1.2, "total_return": 0.31, "max_drawdown": 0.12},
            "rows": [
                {
                    "name": "March 2020",
                    "start": "2020-02-20",
                    "end": "2020-04-30",
                    "source": "default",
                    "status": "tested",
                    "periods": 50,
                    "sharpe": 0.4,
                    "total_return": -0.02,
                    "max_drawdown": 0.09,
                },
                {
                    "name": "2022 rate rise",
                    "start": "2022-01-03",
                    "end": "2022-10-31",
                    "source": "default",
                    "status": "tested",
                    "periods": 210,
                    "sharpe": 0.9,
                    "total_return": 0.05,
                    "max_drawdown": 0.07,
                },
                {
                    "name": "2008 crisis",
                    "start": "2008-09-01",
                    "end": "2009-03-31",
                    "source": "default",
                    "status": "outside the data",
                    "periods": None,
                    "sharpe": None,
                    "total_return": None,
                    "max_drawdown": None,
                },
                {
                    "name": "Desk stress",
                    "start": "2021-05-01",
                    "end": "2021-06-30",
                    "source": "validator",
                    "status": "tested",
                    "periods": 42,
                    "sharpe": -0.3,
                    "total_return": -0.04,
                    "max_drawdown": 0.11,
                },
            ],
        },  # fmt: skip
        "costs": {
            "cost": 0.0005,
            "multiples": [0, 1, 2, 3],
            "sharpe": [1.2, 0.95, 0.7, 0.45],
            "total_return": [0.31, 0.24, 0.17, 0.11],
            "breakeven_multiple": 4.8,
        },
        "parameter_sensitivity": {
            "metric": "sharpe",
            "max_move": 0.8,
            "median_move": 0.2,
            "neighbours": "grid",
            "pairs": [
                {
                    "a": "lookback=20;threshold=0.5",
                    "b": "lookback=40;threshold=0.5",
                    "parameter": "lookback",
                    "move": 0.8,
                },
                {
                    "a": "lookback=40;threshold=0.5",
                    "b": "lookback=40;threshold=1.0",
                    "parameter": "threshold",
                    "move": 0.35,
                },
                {
                    "a": "lookback=40;threshold=1.0",
                    "b": "lookback=60;threshold=1.0",
                    "parameter": "lookback",
                    "move": 0.1,
                },
            ],
        },  # fmt: skip
    }

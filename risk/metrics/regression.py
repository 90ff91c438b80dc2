"""Regression metrics."""

import numpy as np

from risk.metrics._checks import MetricInputError, as_float, same_length


def regression_report(y_true, y_pred) -> dict[str, float]:
    t, p = as_float("y_true", y_true), as_float("y_pred", y_pred)
    same_length(y_true=t, y_pred=p)
    error = t - p
    ss_res = float(error @ error)
    centred = t - t.mean()
    ss_tot = float(centred @ centred)
    if ss_tot == 0:
        raise MetricInputError("R2 is undefined when y_true is constant")
    return {
        "rmse": float(np.sqrt(ss_res / t.size)),
        "mae": float(np.abs(error).mean()),
        "r2": 1.0 - ss_res / ss_tot,
        # Share of observations where prediction and outcome have the same sign (zero counts as its own sign).
        "directional_accuracy": float(np.mean(np.sign(t) == np.sign(p))),
    }

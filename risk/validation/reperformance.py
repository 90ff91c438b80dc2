"""Re-performance of a prediction log: Vigil runs the version's ONNX model on the log's features and compares its
predictions with the logged ones, row by row (the graded test "predictions reproduce").

A classifier's labels must be equal; its score and a regressor's value hold within the plan's tolerance per output
(`score_tolerance`, `prediction_tolerance`: |Vigil's - the log's| <= tolerance x max(1, |the log's|)). The value
graded is the number of rows that differ; the reason names the first rows by file line, with both values. A model
that cannot be run fails the test with the reason (model_runtime.ModelUnusable); the rest of the run completes.
"""

from dataclasses import dataclass

import numpy as np

from risk.validation import model_runtime
from risk.validation.datasets import ColumnReader, DatasetError, column_names

NOT_RUN = "the model could not be run"
NO_MODEL = f"{NOT_RUN}: no ONNX file was chosen for this run"
SHOWN_ROWS = 20


@dataclass
class Reproduction:
    value: int | None  # rows that differ; None when the model could not be run
    reason: str
    fingerprint: dict
    # What the depth tests reuse (risk.validation.depth): the loaded model, how the log feeds it, its predictions.
    runnable: object = None
    feed: object = None
    predicted: object = None


def reproduce(model, log, columns: dict, kind: str, options: dict, role_columns: set[str]) -> Reproduction:
    """Run `model` (an Evidence of kind model_onnx) on the rows of `log` and compare with its y_pred (and y_score)
    in `columns`; `kind` is "classifier" or "regressor"."""
    rows = columns["y_pred"].size
    fingerprint = {"role": "model", "evidence": model.pk, "name": model.original_name, "sha256": model.sha256}
    try:
        runnable = model_runtime.load_evidence(model)
        feed = runnable.feed_for(column_names(log), options.get("features"), role_columns, log.original_name)
        fingerprint |= {"rows": rows, "columns": feed.features}
        reader = ColumnReader(log, feed.features)
        predicted = runnable.predict(feed, {f: reader.get(f) for f in feed.features}, kind, rows)
    except (model_runtime.ModelUnusable, DatasetError) as exc:
        return Reproduction(None, f"{NOT_RUN}: {exc}", {"rows": None, "columns": [], **fingerprint})
    value, reason = differences(columns, predicted, kind, options)
    return Reproduction(value, reason, fingerprint, runnable, feed, predicted)


def differences(columns: dict, predicted, kind: str, options: dict) -> tuple[int, str]:
    """The rows whose re-run prediction differs from the log's, counted and described (the first SHOWN_ROWS)."""
    logged, rerun = columns["y_pred"], predicted.y_pred
    if kind == "classifier":
        pred_bad, compared = ~(rerun == logged), ["y_pred exactly"]
    else:
        pred_bad = _beyond(logged, rerun, options["prediction_tolerance"])
        compared = [f"y_pred within {options['prediction_tolerance']:g}"]
    score_bad = np.zeros_like(pred_bad)
    notes = list(predicted.notes)
    if "y_score" in columns and predicted.y_score is not None:
        score_bad = _beyond(columns["y_score"], predicted.y_score, options["score_tolerance"])
        compared.append(f"y_score within {options['score_tolerance']:g}")
    bad = np.flatnonzero(pred_bad | score_bad)
    what = f"compared {' and '.join(compared)}" + "".join(f"; {note}" for note in notes)
    if not bad.size:
        return 0, f"all {logged.size:,} rows reproduce ({what})"
    shown = []
    for i in bad[:SHOWN_ROWS]:
        parts = [f"y_pred {_number(logged[i])} logged, {_number(rerun[i])} re-run"] if pred_bad[i] else []
        if score_bad[i]:
            parts.append(f"y_score {_number(columns['y_score'][i])} logged, {_number(predicted.y_score[i])} re-run")
        shown.append(f"row {i + 2}: {', '.join(parts)}")  # file lines: the header is line 1
    more = f"; and {bad.size - SHOWN_ROWS:,} more" if bad.size > SHOWN_ROWS else ""
    share = bad.size / logged.size
    return int(bad.size), f"{bad.size:,} of {logged.size:,} rows differ ({share:.4%}; {what}): {'; '.join(shown)}{more}"


def _beyond(logged: np.ndarray, rerun: np.ndarray, tolerance: float) -> np.ndarray:
    """Rows outside the tolerance; a NaN or infinite re-run value is always outside it."""
    return ~(np.abs(rerun - logged) <= tolerance * np.maximum(1.0, np.abs(logged)))


def _number(value: float) -> str:
    return f"{value:.8g}"

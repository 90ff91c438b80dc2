"""Binary classification metrics (labels 0/1; scores are probabilities of class 1)."""

import numpy as np

from risk.metrics._checks import MetricInputError, as_binary, as_float, same_length


def confusion(y_true, y_pred) -> dict[str, int]:
    t, p = as_binary("y_true", y_true), as_binary("y_pred", y_pred)
    same_length(y_true=t, y_pred=p)
    tp = int(np.count_nonzero(t & p))
    fp = int(np.count_nonzero(~t & p))
    fn = int(np.count_nonzero(t & ~p))
    tn = int(t.size - tp - fp - fn)
    return {"tn": tn, "fp": fp, "fn": fn, "tp": tp}


def scores_from_confusion(c: dict[str, int]) -> dict[str, float]:
    """Accuracy, precision, recall and F1; a ratio with a zero denominator is 0 (scikit-learn's zero_division=0)."""
    tp, fp, fn, tn = c["tp"], c["fp"], c["fn"], c["tn"]
    total = tp + fp + fn + tn
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0
    return {"accuracy": (tp + tn) / total, "precision": precision, "recall": recall, "f1": f1}


def _labels_and_scores(y_true, y_score, needs_both: str = ""):
    """Checked labels and scores, with the counts of positives and negatives; `needs_both` names the
    metric that is undefined unless both classes occur."""
    t, s = as_binary("y_true", y_true), as_float("y_score", y_score)
    same_length(y_true=t, y_score=s)
    n_pos = int(t.sum())
    n_neg = t.size - n_pos
    if needs_both and (n_pos == 0 or n_neg == 0):
        raise MetricInputError(f"{needs_both} needs both classes in y_true")
    return t, s, n_pos, n_neg


def roc_auc(y_true, y_score) -> float:
    """Area under the ROC curve as the Mann-Whitney statistic with average ranks for ties (O(n log n))."""
    t, s, n_pos, n_neg = _labels_and_scores(y_true, y_score, "ROC AUC")
    order = np.argsort(s, kind="mergesort")
    sorted_scores = s[order]
    # Average rank of each run of tied scores.
    starts = np.flatnonzero(np.r_[True, sorted_scores[1:] != sorted_scores[:-1]])
    ends = np.r_[starts[1:], sorted_scores.size]
    run_rank = (starts + ends + 1) / 2.0  # 1-based average rank of the run
    ranks = np.empty(s.size, dtype=np.float64)
    ranks[order] = np.repeat(run_rank, ends - starts)
    return float((ranks[t].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def calibration_bins(y_true, y_score, bins: int = 10) -> dict[str, list[float]]:
    """Per non-empty equal-width score bin: mean score, hit rate and row count (a reliability diagram)."""
    t, s, _, _ = _labels_and_scores(y_true, y_score)
    if ((s < 0) | (s > 1)).any():
        raise MetricInputError("y_score must lie between 0 and 1")
    index = np.minimum((s * bins).astype(np.int64), bins - 1)
    count = np.bincount(index, minlength=bins)
    score_sum = np.bincount(index, weights=s, minlength=bins)
    hit_sum = np.bincount(index, weights=t.astype(np.float64), minlength=bins)
    used = count > 0
    return {
        "mean_score": (score_sum[used] / count[used]).tolist(),
        "hit_rate": (hit_sum[used] / count[used]).tolist(),
        "count": count[used].astype(np.float64).tolist(),
    }


def calibration_error(y_true, y_score, bins: int = 10) -> float:
    """Expected calibration error: sum over equal-width score bins of share x |mean score - hit rate|."""
    b = calibration_bins(y_true, y_score, bins)
    count = np.asarray(b["count"])
    gaps = np.abs(np.asarray(b["mean_score"]) - np.asarray(b["hit_rate"]))
    return float((count / count.sum() * gaps).sum())


def roc_curve(y_true, y_score) -> tuple[np.ndarray, np.ndarray]:
    """False and true positive rates at every distinct score used as a threshold (highest first), from (0, 0)."""
    t, s, n_pos, n_neg = _labels_and_scores(y_true, y_score, "the ROC curve")
    order = np.argsort(-s, kind="mergesort")
    sorted_scores, hits = s[order], t[order]
    last_of_run = np.r_[sorted_scores[1:] != sorted_scores[:-1], True]
    tps = np.cumsum(hits)[last_of_run]
    fps = np.cumsum(~hits)[last_of_run]
    return np.r_[0.0, fps / n_neg], np.r_[0.0, tps / n_pos]


def classifier_report(y_true, y_pred, y_score=None) -> dict[str, float]:
    c = confusion(y_true, y_pred)
    out = {**scores_from_confusion(c), **{f"confusion_{k}": float(v) for k, v in c.items()}}
    if y_score is not None:
        out["roc_auc"] = roc_auc(y_true, y_score)
        out["calibration_error"] = calibration_error(y_true, y_score)
    return out

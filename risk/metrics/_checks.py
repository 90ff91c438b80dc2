import numpy as np


class MetricInputError(ValueError):
    """Input a metric cannot be computed from; the message says what is wrong."""


def as_float(name: str, values) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1:
        raise MetricInputError(f"{name} must be one-dimensional")
    if array.size == 0:
        raise MetricInputError(f"{name} is empty")
    if not np.isfinite(array).all():
        bad = int(np.flatnonzero(~np.isfinite(array))[0])
        raise MetricInputError(f"{name} has a NaN or infinite value at position {bad}")
    return array


def same_length(**arrays) -> None:
    sizes = {name: len(a) for name, a in arrays.items()}
    if len(set(sizes.values())) > 1:
        raise MetricInputError("lengths differ: " + ", ".join(f"{k}={v}" for k, v in sizes.items()))


def as_binary(name: str, values) -> np.ndarray:
    array = as_float(name, values)
    if not np.isin(array, (0.0, 1.0)).all():
        bad = int(np.flatnonzero(~np.isin(array, (0.0, 1.0)))[0])
        raise MetricInputError(f"{name} must be 0 or 1; position {bad} holds {float(array[bad]):g}")
    return array.astype(bool)


def as_matrix(name: str, values, allow_nan: bool = False) -> np.ndarray:
    """A two-dimensional float64 array with rows and columns; NaN only where the caller allows missing values."""
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 2:
        raise MetricInputError(f"{name} must be two-dimensional (rows x features); it has {array.ndim} dimension(s)")
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise MetricInputError(f"{name} is empty: {array.shape[0]} rows x {array.shape[1]} columns")
    bad = np.isinf(array) if allow_nan else ~np.isfinite(array)
    if bad.any():
        row, column = (int(i) for i in np.argwhere(bad)[0])
        raise MetricInputError(
            f"{name} has a {'infinite' if allow_nan else 'NaN or infinite'} value at row {row}, column {column}"
        )
    return array


def predictions_of(predict, block: np.ndarray) -> np.ndarray:
    """The model's predictions for a block of rows, one per row (or one row of outputs per row)."""
    prediction = np.asarray(predict(block))
    if prediction.shape[:1] != (block.shape[0],):
        raise MetricInputError(f"the model returned {prediction.shape[:1]} predictions for {block.shape[0]} rows")
    return prediction

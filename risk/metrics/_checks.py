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

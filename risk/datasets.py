"""Reading evidence datasets column by column (pyarrow), with errors that name the file, column and row."""

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq


class DatasetError(ValueError):
    """A dataset that cannot be validated; the message names the file, and where known the column and row."""


def read_columns(evidence, required: list[str], optional: list[str]) -> dict[str, np.ndarray]:
    """Only the columns the plan needs, as float64 arrays (timestamps as int64 nanoseconds)."""
    name = evidence.original_name
    wanted = required + optional
    try:
        with evidence.file.open("rb") as handle:
            if name.lower().endswith(".parquet"):
                table = pq.read_table(handle, columns=None)
            else:
                table = pacsv.read_csv(
                    handle,
                    read_options=pacsv.ReadOptions(encoding="utf8"),
                    convert_options=pacsv.ConvertOptions(strings_can_be_null=False),
                )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, UnicodeDecodeError, OSError) as exc:
        raise DatasetError(f"{name}: cannot be read as a table ({_first_line(exc)})") from None
    if table.num_rows == 0:
        raise DatasetError(f"{name}: the file has no rows")
    missing = [c for c in required if c not in table.column_names]
    if missing:
        raise DatasetError(f"{name}: missing column(s) {', '.join(missing)}; found {', '.join(table.column_names)}")
    out = {}
    for column in wanted:
        if column not in table.column_names:
            continue
        data = table.column(column)
        if column == "timestamp":
            out[column] = _timestamps(name, data)
            continue
        out[column] = _numbers(name, column, data)
    return out


def _numbers(name, column, data) -> np.ndarray:
    try:
        values = pc.cast(data, pa.float64()).to_numpy(zero_copy_only=False)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        strings = pc.cast(data, pa.string()).to_pylist()
        for i, text in enumerate(strings):
            try:
                float(text)
            except (TypeError, ValueError):
                raise DatasetError(f"{name}: column {column}, row {i + 2}: {text!r} is not a number") from None
        raise DatasetError(f"{name}: column {column} is not numeric") from None
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        raise DatasetError(f"{name}: column {column}, row {int(bad[0]) + 2}: NaN, empty or infinite value")
    return values


def _timestamps(name, data) -> np.ndarray:
    try:
        stamps = pc.cast(data, pa.timestamp("ns")) if not pa.types.is_timestamp(data.type) else data
        values = stamps.cast(pa.int64()).to_numpy(zero_copy_only=False)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        raise DatasetError(f"{name}: column timestamp holds values that are not timestamps") from None
    if data.null_count:
        raise DatasetError(f"{name}: column timestamp has empty values")
    backwards = np.flatnonzero(np.diff(values) < 0)
    if backwards.size:
        raise DatasetError(f"{name}: column timestamp, row {int(backwards[0]) + 3}: timestamps go backwards")
    return values


def _first_line(exc) -> str:
    return str(exc).strip().splitlines()[0][:200]

"""Reading evidence datasets column by column (pyarrow), with errors that name the file, column and row.

Only the columns a run needs are read, straight into Arrow's columnar buffers, and each is turned into one
float64 array when a metric asks for it: a five-million-row prediction log costs a few hundred megabytes,
never millions of Python objects. Row numbers in messages are file lines (the header is line 1).

A file beyond the upload limits (governance.core.table_limits: rows, columns, decompressed size) is refused before
its data is read: a Parquet file from its footer, a CSV from its header and line count.
"""

import codecs
import csv
import io

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from governance.core import table_limits

CHUNK = 1 << 20


class DatasetError(ValueError):
    """A dataset that cannot be validated; the message names the file, and where known the column and row."""


def _open(evidence):
    """A file object of its own: Django's FieldFile.open hands every caller the same one, and the stability
    tests read columns from several threads."""
    return evidence.file.storage.open(evidence.file.name, "rb")


def is_parquet(evidence) -> bool:
    return evidence.original_name.lower().endswith(".parquet")


def column_names(evidence) -> list[str]:
    """The header, without reading the data."""
    name = evidence.original_name
    try:
        with _open(evidence) as handle:
            if is_parquet(evidence):
                return list(pq.read_schema(handle).names)
            first = handle.readline(CHUNK).decode("utf-8-sig")
    except (pa.ArrowInvalid, OSError) as exc:
        raise DatasetError(f"{name}: cannot be read as a table ({_first_line(exc)})") from None
    except UnicodeDecodeError:
        raise DatasetError(f"{name}: row 1: the header is not UTF-8 text; save the file as UTF-8") from None
    if not first.strip():
        raise DatasetError(f"{name}: the file is empty")
    return next(csv.reader(io.StringIO(first)))


def read_table(evidence, required: list[str], optional: list[str] = ()) -> pa.Table:
    """The required columns (an error names any that is missing) and those optional ones the file has;
    every column when neither names any."""
    name = evidence.original_name
    header = column_names(evidence)
    missing = [c for c in required if c not in header]
    if missing:
        raise DatasetError(f"{name}: missing column(s) {', '.join(missing)}; found {', '.join(header)}")
    wanted = list(dict.fromkeys([*required, *(c for c in optional if c in header)]))
    if is_parquet(evidence):
        _parquet_rows(evidence)  # the limits, from the footer, before any data is read
        try:
            with _open(evidence) as handle:
                table = pq.read_table(handle, columns=wanted or None)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError) as exc:
            raise DatasetError(f"{name}: cannot be read as Parquet ({_first_line(exc)})") from None
    else:
        lines = _check_utf8(evidence)
        _within_limits(evidence, lambda: table_limits.check_csv(size=evidence.size, header=header, lines=lines))
        table = _read_csv(evidence, wanted)
    if table.num_rows == 0:
        raise DatasetError(f"{name}: the file has no rows")
    return table


def table_shape(evidence) -> tuple[int, list[str]]:
    """Rows and header of a table within the upload limits, without reading its data."""
    header = column_names(evidence)
    if is_parquet(evidence):
        return _parquet_rows(evidence), header
    lines = _check_utf8(evidence)
    _within_limits(evidence, lambda: table_limits.check_csv(size=evidence.size, header=header, lines=lines))
    return lines - 1, header


def _read_csv(evidence, wanted, use_threads=True) -> pa.Table:
    name = evidence.original_name
    try:
        with _open(evidence) as handle:
            return pacsv.read_csv(
                handle,
                read_options=pacsv.ReadOptions(encoding="utf8", use_threads=use_threads),
                convert_options=pacsv.ConvertOptions(include_columns=wanted, strings_can_be_null=False),
            )
    except pa.ArrowInvalid as exc:
        if "parse error" in str(exc) and use_threads:
            # Only a single-threaded read knows line numbers; pay for it on the error path alone.
            return _read_csv(evidence, wanted, use_threads=False)
        message = _first_line(exc).replace("CSV parse error: Row #", "row ").replace("CSV parse error: ", "")
        raise DatasetError(f"{name}: {message}") from None
    except (pa.ArrowNotImplementedError, OSError) as exc:
        raise DatasetError(f"{name}: cannot be read as CSV ({_first_line(exc)})") from None


def _check_utf8(evidence) -> int:
    """Stream the file through a UTF-8 decoder; a file in another encoding is named with its first bad line.
    Returns its number of lines (a last line without a line break counts)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    line, last = 1, b"\n"
    with _open(evidence) as handle:
        while chunk := handle.read(CHUNK):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                line += chunk.count(b"\n", 0, exc.start)
                raise DatasetError(
                    f"{evidence.original_name}: row {line}: the file is not UTF-8 text; save it as UTF-8"
                ) from None
            line += chunk.count(b"\n")
            last = chunk[-1:]
    return line - (last == b"\n")


def _parquet_rows(evidence) -> int:
    """The rows a Parquet file's footer records, once the footer shows the file within the upload limits."""
    try:
        with _open(evidence) as handle:
            metadata = pq.read_metadata(handle)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError) as exc:
        raise DatasetError(f"{evidence.original_name}: cannot be read as Parquet ({_first_line(exc)})") from None
    _within_limits(evidence, lambda: table_limits.check_parquet_metadata(metadata))
    return metadata.num_rows


def _within_limits(evidence, check) -> None:
    try:
        check()
    except table_limits.TableTooLarge as exc:
        raise DatasetError(f"{evidence.original_name}: {exc}") from None


def numbers(evidence, table: pa.Table, column: str) -> np.ndarray:
    """One column as float64; a text, empty, NaN or infinite value is named by column and row."""
    name = evidence.original_name
    data = table.column(column)
    try:
        values = pc.cast(data, pa.float64()).to_numpy(zero_copy_only=False)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        for i, text in enumerate(pc.cast(data, pa.string()).to_pylist()):
            try:
                float(text)
            except (TypeError, ValueError):
                raise DatasetError(f"{name}: column {column}, row {i + 2}: {text!r} is not a number") from None
        raise DatasetError(f"{name}: column {column} is not numeric") from None
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        raise DatasetError(f"{name}: column {column}, row {int(bad[0]) + 2}: NaN, empty or infinite value")
    return values


def timestamps(evidence, table: pa.Table, column: str = "timestamp") -> np.ndarray:
    """Timestamps as int64 nanoseconds since the epoch (UTC), required to go forward in time."""
    name = evidence.original_name
    data = table.column(column)
    if data.null_count:
        raise DatasetError(f"{name}: column {column} has empty values")
    try:
        stamps = data if pa.types.is_timestamp(data.type) else pc.cast(data, pa.timestamp("ns"))
        values = pc.cast(stamps, pa.timestamp("ns")).cast(pa.int64()).to_numpy(zero_copy_only=False)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        raise DatasetError(f"{name}: column {column} holds values that are not timestamps") from None
    backwards = np.flatnonzero(np.diff(values) < 0)
    if backwards.size:
        raise DatasetError(f"{name}: column {column}, row {int(backwards[0]) + 3}: timestamps go backwards")
    return values


class ColumnReader:
    """Columns of one file on demand, each as float64: Parquet reads a column only when asked (so a run
    holds one feature at a time); CSV has no column access, so the asked-for columns are read in one pass."""

    def __init__(self, evidence, names: list[str]):
        self.evidence, self.names = evidence, list(names)
        if is_parquet(evidence):
            header = column_names(evidence)
            missing = [c for c in self.names if c not in header]
            if missing:
                raise DatasetError(f"{evidence.original_name}: missing column(s) {', '.join(missing)}")
            self.rows = _parquet_rows(evidence)
            self._table = None
        else:
            self._table = read_table(evidence, self.names)
            self.rows = self._table.num_rows

    def get(self, name: str) -> np.ndarray:
        if self._table is not None:
            return numbers(self.evidence, self._table, name)
        with _open(self.evidence) as handle:
            table = pq.read_table(handle, columns=[name])
        return numbers(self.evidence, table, name)


def _first_line(exc) -> str:
    return str(exc).strip().splitlines()[0][:200]

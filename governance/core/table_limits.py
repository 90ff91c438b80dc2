"""How large a table people upload may be (evidence datasets, monitoring backfills): rows, columns and its size
once decompressed, from settings (VIGIL_UPLOAD_MAX_ROWS, VIGIL_UPLOAD_MAX_COLUMNS, VIGIL_UPLOAD_MAX_DECOMPRESSED_MB).

Checked before any data is read. A Parquet file's footer records its rows, its columns and, per column chunk, the
size of its pages uncompressed and its number of values: a 456 KB file can hold gigabytes once decompressed (a
column of one repeated value costs a few bytes in the file and eight a row in memory), and it is refused from the
footer alone. A CSV is not compressed: its size, its header and its line count (an upper bound on its rows: a
quoted value may hold a line break) say the same.
"""

from django.conf import settings

MB = 1024 * 1024

# Bytes a value of each Parquet physical type takes in memory (Arrow); a text value at least its offset.
_WIDTH = {"BOOLEAN": 1, "INT32": 4, "FLOAT": 4, "INT64": 8, "DOUBLE": 8, "INT96": 12, "BYTE_ARRAY": 4}


class TableTooLarge(ValueError):
    """A table beyond a limit: the message says what the file holds and names the limit and its setting."""


def check(*, rows: int, columns: int, decompressed_bytes: int, rows_are_lines: bool = False) -> None:
    """Raise TableTooLarge when a table exceeds a limit."""
    if columns > settings.VIGIL_UPLOAD_MAX_COLUMNS:
        raise TableTooLarge(
            f"the file has {columns:,} columns; the limit is {settings.VIGIL_UPLOAD_MAX_COLUMNS:,} "
            "(setting VIGIL_UPLOAD_MAX_COLUMNS)"
        )
    if rows > settings.VIGIL_UPLOAD_MAX_ROWS:
        what = "data lines" if rows_are_lines else "rows"
        raise TableTooLarge(
            f"the file has {rows:,} {what}; the limit is {settings.VIGIL_UPLOAD_MAX_ROWS:,} rows "
            "(setting VIGIL_UPLOAD_MAX_ROWS)"
        )
    if decompressed_bytes > settings.VIGIL_UPLOAD_MAX_DECOMPRESSED_MB * MB:
        raise TableTooLarge(
            f"the file holds {_size(decompressed_bytes)} once decompressed; the limit is "
            f"{_size(settings.VIGIL_UPLOAD_MAX_DECOMPRESSED_MB * MB)} (setting VIGIL_UPLOAD_MAX_DECOMPRESSED_MB)"
        )


def check_parquet_metadata(metadata) -> None:
    """The limits, from a Parquet footer (pyarrow's FileMetaData) alone."""
    check(rows=metadata.num_rows, columns=metadata.num_columns, decompressed_bytes=parquet_decompressed_bytes(metadata))


def parquet_decompressed_bytes(metadata) -> int:
    """What the file's columns take once read: per column chunk, the larger of its pages' uncompressed size and its
    values times their width in memory (dictionary and run-length encodings make the first far smaller)."""
    total = 0
    for g in range(metadata.num_row_groups):
        group = metadata.row_group(g)
        for c in range(group.num_columns):
            chunk = group.column(c)
            width = _WIDTH.get(chunk.physical_type)
            if width is None:  # FIXED_LEN_BYTE_ARRAY: its declared length
                width = max(1, metadata.schema.column(c).length or 1)
            total += max(chunk.total_uncompressed_size or 0, chunk.num_values * width)
    return total


def check_csv(*, size: int, header: list[str], lines: int) -> None:
    """The limits for a CSV file of `size` bytes, its header and its number of lines (the header's included)."""
    check(rows=max(0, lines - 1), columns=len(header), decompressed_bytes=size, rows_are_lines=True)


def _size(n: int) -> str:
    return f"{n / (1024 * MB):,.1f} GiB" if n >= 1024 * MB else f"{n / MB:,.0f} MiB"

"""Decide what an uploaded evidence file really is from its bytes, not its name.

Hand-written and small on purpose: the allow-list is short (documents, datasets, ONNX models), each format
has a fixed signature, and a library that guesses hundreds of types would widen what is accepted.
"""

import csv
import json
import zipfile

from governance.core import table_limits

TEXT_PROBE = 64 * 1024

# suffix -> (content type recorded, checker name)
FORMATS = {
    ".pdf": ("application/pdf", "pdf"),
    ".docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx"),
    ".xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
    ".md": ("text/markdown", "text"),
    ".txt": ("text/plain", "text"),
    ".csv": ("text/csv", "text"),
    ".ipynb": ("application/x-ipynb+json", "notebook"),
    ".json": ("application/json", "json"),
    ".parquet": ("application/vnd.apache.parquet", "parquet"),
    ".onnx": ("application/onnx", "onnx"),
}
ONNX_CONTENT_TYPE = FORMATS[".onnx"][0]
TABLE_CONTENT_TYPES = (FORMATS[".csv"][0], FORMATS[".parquet"][0])


class SniffError(ValueError):
    pass


def _head(file, size):
    file.seek(0)
    data = file.read(size)
    file.seek(0)
    return data


def _zip_has(file, prefix) -> bool:
    file.seek(0)
    try:
        with zipfile.ZipFile(file) as archive:
            return any(name.startswith(prefix) for name in archive.namelist())
    except zipfile.BadZipFile:
        return False
    finally:
        file.seek(0)


def _text(file) -> bool:
    head = _head(file, TEXT_PROBE)
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the probe's end is still text.
        return exc.start >= len(head) - 3
    return True


def sniff(file, suffix: str) -> str:
    """The content type for an allowed suffix whose bytes match it; SniffError explains a mismatch."""
    if suffix not in FORMATS:
        raise SniffError(f"files of type '{suffix or 'none'}' are not accepted; allowed: {', '.join(FORMATS)}")
    content_type, kind = FORMATS[suffix]
    ok = {
        "pdf": lambda: _head(file, 5) == b"%PDF-",
        "docx": lambda: _head(file, 4) == b"PK\x03\x04" and _zip_has(file, "word/"),
        "xlsx": lambda: _head(file, 4) == b"PK\x03\x04" and _zip_has(file, "xl/"),
        "text": lambda: _text(file),
        "parquet": lambda: _head(file, 4) == b"PAR1",
        "onnx": lambda: _onnx(file),
        "json": lambda: _json(file) is not None,
        "notebook": lambda: isinstance(_json(file), dict) and "cells" in _json(file),
    }[kind]()
    if not ok and kind == "text":
        raise SniffError("the file is not UTF-8 text (save it as UTF-8)")
    if not ok:
        raise SniffError(f"the file's content is not a valid {suffix[1:].upper()} file")
    return content_type


def _json(file):
    file.seek(0)
    try:
        return json.loads(file.read().decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    finally:
        file.seek(0)


# ONNX has no magic number: a model is a protobuf ModelProto. Its top level is walked field by field (a few
# dozen at most; the graph is one field, skipped over), without parsing it: a web process never imports onnx.
_ONNX_IR_VERSION, _ONNX_GRAPH = 1, 7
_MAX_TOP_LEVEL_FIELDS = 10_000


def _varint(file) -> int | None:
    value = 0
    for shift in range(0, 64, 7):
        byte = file.read(1)
        if not byte:
            return None
        value |= (byte[0] & 0x7F) << shift
        if byte[0] < 0x80:
            return value
    return None


def _onnx(file) -> bool:
    """Whether the bytes are a protobuf message whose every top-level field is well formed, with an IR version
    and a graph (what ModelProto requires): a text file, an archive or a pickle renamed .onnx is not."""
    size = file.size
    file.seek(0)
    seen = set()
    try:
        for _ in range(_MAX_TOP_LEVEL_FIELDS):
            if file.tell() == size:
                return {_ONNX_IR_VERSION, _ONNX_GRAPH} <= seen
            key = _varint(file)
            if key is None or key >> 3 == 0:
                return False
            number, wire = key >> 3, key & 7
            if wire == 0:
                if _varint(file) is None:
                    return False
            elif wire in (1, 5):
                file.seek(file.tell() + (8 if wire == 1 else 4))
            elif wire == 2:
                length = _varint(file)
                if length is None or file.tell() + length > size:
                    return False
                file.seek(file.tell() + length)
            else:
                return False
            if (number, wire) in ((_ONNX_IR_VERSION, 0), (_ONNX_GRAPH, 2)):
                seen.add(number)
        return False
    finally:
        file.seek(0)


def table_check(file, content_type: str) -> None:
    """A dataset (Parquet, CSV) within the upload limits, or TableTooLarge naming the limit: a Parquet file from
    its footer, a CSV from its header and line count, without parsing either."""
    if content_type == FORMATS[".parquet"][0]:
        import pyarrow as pa  # here: the web process loads pyarrow only when a Parquet file is uploaded
        import pyarrow.parquet as pq

        file.seek(0)
        try:
            metadata = pq.read_metadata(file)
        except (pa.ArrowException, OSError) as exc:
            raise SniffError(f"the Parquet file cannot be read ({str(exc).strip()[:200]})") from None
        finally:
            file.seek(0)
        table_limits.check_parquet_metadata(metadata)
    elif content_type == FORMATS[".csv"][0]:
        header = _head(file, TEXT_PROBE).split(b"\n", 1)[0].decode("utf-8", "replace")
        lines, last = 0, b"\n"
        for chunk in file.chunks():
            lines += chunk.count(b"\n")
            last = chunk[-1:] or last
        file.seek(0)
        table_limits.check_csv(size=file.size, header=next(csv.reader([header]), []), lines=lines + (last != b"\n"))

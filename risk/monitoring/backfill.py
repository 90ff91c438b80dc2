"""Backfills: a CSV or Parquet file of past monitoring data, stored through the ingest services as a job.

`backfill_upload` checks the file from its bytes (Parquet by its "PAR1" magic, else UTF-8 CSV text) and its columns
against the kind and its size against the upload limits (governance.core.table_limits: a Parquet file's footer, a
CSV's header and line count, before any data is read), stores it under a random name with its SHA-256, and queues a
`monitoring_backfill` job in the same transaction. The runner, `run_backfill`, streams the file with pyarrow (CSV:
the streaming reader, every column read as text and converted here; Parquet: `iter_batches`), cuts it into chunks of
the upload's `chunk_rows` rows and stores each through the same service as the API's batches (points_ingest and the
others: the same row checks, the same all-or-nothing batch) with the idempotency key "backfill-<upload>-<chunk>". A
job redelivered after its worker died skips the chunks already stored and carries on. A chunk the row checks refuse
fails the job: the chunks before it stay stored, and the error names the file's rows (data rows counted from 1,
after the header) and fields.

Column mapping, by kind (the API's row shape):
- points: metric, timestamp, value;
- trades: id, timestamp, instrument, side, quantity, price, pnl, optional expected_slippage, realised_slippage;
- predictions: id, timestamp, prediction, optional score; every other column is a feature;
- outcomes: id, outcome.
"""

import csv
import datetime as dt
import hashlib
import io
import logging
from decimal import Decimal
from pathlib import PurePath

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from governance.core import jobs, table_limits
from governance.core.error_text import bounded
from governance.core.exceptions import Conflict
from risk.monitoring import inputs, services
from risk.monitoring.access import can_push
from risk.monitoring.models import BackfillUpload, IngestBatch

logger = logging.getLogger(__name__)

JOB_KIND = "monitoring_backfill"
MAX_ATTEMPTS = 3
MAX_REPORTED = 20  # problems named in a failed backfill's error
HEADER_PROBE = 1024 * 1024  # bytes read to find a CSV's header line
CSV_BLOCK = 4 * 1024 * 1024
K = IngestBatch.Kind
U = BackfillUpload.Status
F = BackfillUpload.Format

# kind -> (required columns, optional columns); a predictions file's other columns are its features.
COLUMNS = {
    K.POINTS: (("metric", "timestamp", "value"), ()),
    K.TRADES: (
        ("id", "timestamp", "instrument", "side", "quantity", "price", "pnl"),
        ("expected_slippage", "realised_slippage"),
    ),
    K.PREDICTIONS: (("id", "timestamp", "prediction"), ("score",)),
    K.OUTCOMES: (("id", "outcome"), ()),
}
INGEST = {
    K.POINTS: services.points_ingest,
    K.TRADES: services.trades_ingest,
    K.PREDICTIONS: services.predictions_ingest,
    K.OUTCOMES: services.outcomes_ingest,
}


def _arrow():
    """pyarrow (about 65 MB), loaded by the process that reads an upload, not by every web worker."""
    import pyarrow as pa
    import pyarrow.csv as pa_csv
    import pyarrow.parquet as pq

    return pa, pa_csv, pq


def max_backfill_bytes() -> int:
    return settings.VIGIL_MONITORING_BACKFILL_MAX_MB * 1024 * 1024


class _Refused(ValueError):
    """The file is not one this kind of backfill can read: the reason, shown beside the file field."""


# --- Upload ------------------------------------------------------------------------------------------------


@transaction.atomic
def backfill_upload(actor, model, uploaded_file, kind, version_label=None) -> BackfillUpload:
    """Store a backfill file and queue its job (the worker starts after commit). The model's owner and developers
    only, as for pushing batches; the version reported on is the one named, else production, else pilot."""
    if not can_push(actor, model):
        raise PermissionDenied("Only the model's owner and developers report its monitoring data.")
    errors: dict[str, list[str]] = {}
    if kind not in K.values:
        errors["kind"] = [f"Choose one of: {', '.join(K.values)}."]
    version = None
    try:
        version = services.monitored_version(model, version_label)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    name = PurePath(getattr(uploaded_file, "name", "") or "").name[:255] or "backfill"
    fmt = rows_total = None
    if uploaded_file is None or not hasattr(uploaded_file, "chunks"):
        errors["file"] = ["Choose a CSV or Parquet file."]
    elif uploaded_file.size == 0:
        errors["file"] = ["The file is empty."]
    elif uploaded_file.size > max_backfill_bytes():
        errors["file"] = [f"The file is larger than the limit of {settings.VIGIL_MONITORING_BACKFILL_MAX_MB} MB."]
    else:
        try:
            fmt, rows_total = _inspect(uploaded_file, kind if kind in K.values else None)
        except _Refused as exc:
            errors["file"] = [f"{name}: {exc}"]
    if errors:
        raise ValidationError(errors)
    digest, lines = _digest(uploaded_file)
    if fmt == F.CSV:
        rows_total = lines - 1  # less the header; exact once the job has read the file
        header = _csv_header(_head(uploaded_file, HEADER_PROBE), complete=uploaded_file.size <= HEADER_PROBE)
        try:
            table_limits.check_csv(size=uploaded_file.size, header=header, lines=lines)
        except table_limits.TableTooLarge as exc:
            raise ValidationError({"file": [f"{name}: {exc}."]}) from None
    if not rows_total or rows_total < 1:
        raise ValidationError({"file": [f"{name}: the file holds no rows."]})
    upload = BackfillUpload(
        model=model,
        version=version,
        kind=kind,
        original_name=name,
        sha256=digest,
        size=uploaded_file.size,
        format=fmt,
        chunk_rows=settings.VIGIL_MONITORING_MAX_BATCH,
        uploaded_by=actor,
        rows_total=rows_total,
    )
    upload.file.save(name, uploaded_file, save=False)
    try:
        upload.save(force_insert=True)
        upload.job = jobs.enqueue(JOB_KIND, subject=upload, requested_by=actor, max_attempts=MAX_ATTEMPTS)
        upload.save(update_fields=["job"])
    except Exception:
        upload.file.delete(save=False)
        raise
    return upload


def _head(file, size: int) -> bytes:
    file.seek(0)
    data = file.read(size)
    file.seek(0)
    return data


def _inspect(file, kind) -> tuple[str, int | None]:
    """The file's format, decided from its bytes, and its row count when the format records it (Parquet);
    _Refused when it is neither format, or its columns do not fit the kind."""
    pa, pa_csv, pq = _arrow()
    if _head(file, 4) == b"PAR1":
        file.seek(max(0, file.size - 4))
        tail = file.read(4)
        file.seek(0)
        if tail != b"PAR1":
            raise _Refused("the Parquet file is truncated (it does not end with its footer).")
        try:
            parquet = pq.ParquetFile(file)
            names, metadata = parquet.schema_arrow.names, parquet.metadata
        except (pa.ArrowException, OSError, ValueError) as exc:
            raise _Refused(f"the file is not a readable Parquet file ({str(exc)[:200]}).") from None
        finally:
            file.seek(0)
        _within_limits(lambda: table_limits.check_parquet_metadata(metadata))  # from the footer, before any data
        if kind:
            _check_columns(names, kind)
        return F.PARQUET, metadata.num_rows
    names = _csv_header(_head(file, HEADER_PROBE), complete=file.size <= HEADER_PROBE)
    if kind:
        _check_columns(names, kind)
    return F.CSV, None


def _within_limits(check) -> None:
    try:
        check()
    except table_limits.TableTooLarge as exc:
        raise _Refused(f"{exc}.") from None


def _csv_header(head: bytes, complete: bool) -> list[str]:
    """The column names of a CSV from its first bytes; _Refused when they are not UTF-8 text with a header."""
    if b"\x00" in head:
        raise _Refused("the file is neither CSV (UTF-8 text) nor Parquet.")
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if complete or exc.start < len(head) - 3:  # a character cut at the probe's end is still text
            raise _Refused("the file is neither CSV (UTF-8 text) nor Parquet.") from None
        text = head[: exc.start].decode("utf-8")
    text = text.removeprefix("\ufeff")
    if "\n" not in text and not complete:
        raise _Refused("the CSV's header line is longer than 1 MB.")
    try:
        names = next(csv.reader(io.StringIO(text.split("\n", 1)[0])), [])
    except csv.Error as exc:
        raise _Refused(f"the CSV's header line cannot be read ({exc}).") from None
    names = [n.strip() for n in names]
    if not any(names):
        raise _Refused("the CSV has no header line naming its columns.")
    return names


def _check_columns(names: list[str], kind: str) -> None:
    required, optional = COLUMNS[kind]
    expected = ", ".join(required + tuple(f"[{o}]" for o in optional))
    if "" in names:
        raise _Refused("a column has no name.")
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise _Refused(f"columns named twice: {', '.join(repeated)}.")
    missing = [c for c in required if c not in names]
    if missing:
        raise _Refused(f"no column {', '.join(missing)}; a {kind} file has the columns {expected}.")
    others = [n for n in names if n not in required and n not in optional]
    if kind == K.PREDICTIONS:
        if not others:
            raise _Refused(f"no feature columns; a predictions file has {expected} and one column per feature.")
        if len(others) > inputs.MAX_FEATURES:
            raise _Refused(f"{len(others)} feature columns; at most {inputs.MAX_FEATURES}.")
        long = [n for n in others if len(n) > 100]
        if long:
            raise _Refused(f"feature names have at most 100 characters: {long[0][:40]}...")
    elif others:
        raise _Refused(f"unknown columns {', '.join(others[:10])}; a {kind} file has the columns {expected}.")


def _digest(file) -> tuple[str, int]:
    """SHA-256 of the file and its number of lines (a final line without a newline counts)."""
    digest, lines, last = hashlib.sha256(), 0, b"\n"
    file.seek(0)
    for chunk in file.chunks():
        digest.update(chunk)
        lines += chunk.count(b"\n")
        last = chunk[-1:] or last
    file.seek(0)
    return digest.hexdigest(), lines + (last != b"\n")


# --- The job ------------------------------------------------------------------------------------------------


def chunk_key(upload, n: int) -> str:
    return f"backfill-{upload.pk}-{n}"


def _stored_chunks(upload) -> dict[int, int]:
    """Chunks of this upload already stored (by an earlier delivery of its job): chunk number -> rows."""
    prefix = chunk_key(upload, 0)[:-1]
    batches = IngestBatch.objects.filter(model_id=upload.model_id, kind=upload.kind, idempotency_key__startswith=prefix)
    chunks = {key.removeprefix(prefix): rows for key, rows in batches.values_list("idempotency_key", "rows")}
    return {int(n): rows for n, rows in chunks.items() if n.isdigit()}


def run_backfill(job, progress) -> dict:
    """The job runner: store the file chunk by chunk, skipping chunks stored by an earlier delivery."""
    pa, pa_csv, pq = _arrow()
    upload = BackfillUpload.objects.select_related("model", "version", "uploaded_by").get(pk=int(job.subject_id))
    live = BackfillUpload.objects.filter(pk=upload.pk, status__in=[U.QUEUED, U.RUNNING])
    if not live.update(status=U.RUNNING):
        return {"upload": upload.pk, "status": "already finished"}
    stored, ingest = _stored_chunks(upload), INGEST[upload.kind]
    done = rows_stored = chunks = 0
    batches = _read(upload)
    try:
        for n, table in enumerate(_chunks(batches, upload.chunk_rows)):
            start, done = done, done + table.num_rows
            if n in stored:
                rows_stored += stored[n]
                continue
            body = {"version": upload.version.version, upload.kind: _rows(upload, table)}
            try:
                result = ingest(upload.uploaded_by, upload.model, body, chunk_key(upload, n))
            except inputs.BatchRefused as refused:
                raise jobs.JobFailed(_refusal(refused, start, table.num_rows)) from None
            except (ValidationError, PermissionDenied, Conflict) as exc:
                raise jobs.JobFailed(_stopped(start, start + 1, _message(exc))) from None
            rows_stored += result.batch.rows
            chunks += 1
            BackfillUpload.objects.filter(pk=upload.pk).update(rows_stored=rows_stored)
            progress(min(99, done * 100 // max(upload.rows_total or done, done, 1)))
    except jobs.JobFailed as exc:
        _finish(upload, U.FAILED, rows_stored=rows_stored, error=str(exc))
        raise
    except (pa.ArrowException, OSError, _Refused) as exc:
        message = _stopped(done, done + 1, f"the file cannot be read after row {done:,}: {str(exc)[:500]}")
        _finish(upload, U.FAILED, rows_stored=rows_stored, error=message)
        raise jobs.JobFailed(message) from None
    finally:
        batches.close()  # closes the file when the loop stopped early
    if done == 0:
        _finish(upload, U.FAILED, rows_stored=0, error="The file holds no rows.")
        raise jobs.JobFailed("The file holds no rows.")
    _finish(upload, U.SUCCEEDED, rows_stored=rows_stored, rows_total=done)
    return {"upload": upload.pk, "rows": done, "rows_stored": rows_stored, "chunks_stored_now": chunks}


def on_give_up(job, reason: str) -> None:
    """The job gave up (a worker lost on every delivery, retries spent, a bug): the upload fails with the reason,
    saying how much was stored."""
    upload = BackfillUpload.objects.filter(pk=int(job.subject_id)).first()
    if upload is None or upload.status not in (U.QUEUED, U.RUNNING):
        return
    logger.error("monitoring backfill %s gave up: %s", upload.pk, reason)
    stored = sum(_stored_chunks(upload).values())
    note = f" {stored:,} rows were stored before it stopped." if stored else " Nothing was stored."
    _finish(upload, U.FAILED, rows_stored=stored, error=f"{reason[:2000]}{note}")


def _finish(upload, status: str, *, rows_stored: int, error: str = "", rows_total: int | None = None) -> None:
    error = bounded(error, where=f"backfill upload {upload.pk}")
    fields = {"status": status, "rows_stored": rows_stored, "error": error, "finished_at": timezone.now()}
    if rows_total is not None:
        fields["rows_total"] = rows_total
    BackfillUpload.objects.filter(pk=upload.pk, status__in=[U.QUEUED, U.RUNNING]).update(**fields)


def _message(exc) -> str:
    if isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
        return "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in exc.message_dict.items())
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return str(exc)


def _stopped(start: int, at: int, problems: str) -> str:
    kept = f"Rows 1-{start:,} were stored" if start else "Nothing was stored"
    again = f"upload rows {start + 1:,} onwards again" if start else "upload it again"
    return f"{kept}; the file stopped at row {at:,}: {problems} Correct the file and {again}."


def _refusal(refused: inputs.BatchRefused, start: int, size: int) -> str:
    """The problems of a refused chunk by the file's row (data rows counted from 1) and field, first 20."""
    problems = [p for rows in refused.detail.values() for p in rows]
    first = start + 1 + min(p["row"] for p in problems)
    named = "; ".join(
        f"row {start + 1 + p['row']:,}, {p['field']}: {p['error'].rstrip('.')}" for p in problems[:MAX_REPORTED]
    )
    more = f" (and {len(problems) - MAX_REPORTED} more)" if len(problems) > MAX_REPORTED else ""
    block = f"rows {start + 1:,}-{start + size:,} were refused together."
    return _stopped(start, first, f"{named}{more}. {block[0].upper()}{block[1:]}")


def _read(upload):
    """The file's record batches, streamed: CSV with every column as text; Parquet with the columns used."""
    pa, pa_csv, pq = _arrow()
    with upload.file.open("rb") as file:
        if upload.format == F.CSV:
            names = _csv_header(_head(file, HEADER_PROBE), complete=upload.size <= HEADER_PROBE)
            reader = pa_csv.open_csv(
                file,
                read_options=pa_csv.ReadOptions(column_names=names, skip_rows=1, block_size=CSV_BLOCK),
                convert_options=pa_csv.ConvertOptions(
                    column_types={name: pa.string() for name in names}, strings_can_be_null=False
                ),
            )
            yield from reader
        else:
            parquet = pq.ParquetFile(file)
            required, optional = COLUMNS[upload.kind]
            names = parquet.schema_arrow.names
            columns = None if upload.kind == K.PREDICTIONS else [n for n in names if n in required + optional]
            yield from parquet.iter_batches(batch_size=upload.chunk_rows, columns=columns)


def _chunks(batches, size: int):
    """Tables of exactly `size` rows (the last one fewer), whatever the sizes of the batches read: the chunks,
    and so their idempotency keys, are the same on every delivery."""
    pa, pa_csv, pq = _arrow()
    pending, count = [], 0
    for batch in batches:
        if batch.num_rows == 0:
            continue
        pending.append(batch)
        count += batch.num_rows
        while count >= size:
            table = pa.Table.from_batches(pending)
            yield table.slice(0, size)
            rest = table.slice(size)
            pending, count = rest.to_batches(), rest.num_rows
    if count:
        yield pa.Table.from_batches(pending)


def _number(value):
    """A CSV cell as a number when it reads as one; anything else is passed on for the row check to name."""
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        try:
            return float(text)
        except ValueError:
            return value
    if isinstance(value, Decimal):
        return float(value)
    return value


def _text(value):
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _time(value):
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()  # a time without its zone stays without one: the row check asks for it
    return value.strip() if isinstance(value, str) else value


def _rows(upload, table) -> list[dict]:
    """The chunk as the API's rows of its kind."""
    cols = table.to_pydict()
    n, kind = table.num_rows, upload.kind
    if kind == K.POINTS:
        metric, time, value = (cols[c] for c in ("metric", "timestamp", "value"))
        return [{"metric": _text(metric[i]), "timestamp": _time(time[i]), "value": _number(value[i])} for i in range(n)]
    if kind == K.OUTCOMES:
        ids, outcome = cols["id"], cols["outcome"]
        return [{"id": _text(ids[i]), "outcome": _number(outcome[i])} for i in range(n)]
    if kind == K.TRADES:
        texts, numbers = ("id", "instrument", "side"), ("quantity", "price", "pnl")
        optional = [c for c in COLUMNS[K.TRADES][1] if c in cols]
        rows = []
        for i in range(n):
            row = {c: _text(cols[c][i]) for c in texts} | {c: _number(cols[c][i]) for c in numbers}
            row["timestamp"] = _time(cols["timestamp"][i])
            rows.append(row | {c: _number(cols[c][i]) for c in optional})
        return rows
    required, optional = COLUMNS[K.PREDICTIONS]
    features = [c for c in cols if c not in required and c not in optional]
    score = cols.get("score")
    rows = []
    for i in range(n):
        row = {
            "id": _text(cols["id"][i]),
            "timestamp": _time(cols["timestamp"][i]),
            "prediction": _number(cols["prediction"][i]),
            "features": {f: _number(cols[f][i]) for f in features},
        }
        if score is not None:
            row["score"] = _number(score[i])
        rows.append(row)
    return rows

"""Export requests: checked, recorded, run as jobs on the backbone, downloaded with an audit record each time.

A person exports only what they may see (the access registry decides, as on pages); the file is written to a
temporary file while its SHA-256 is computed, stored, and removed once it expires (the record stays)."""

import datetime as dt
import hashlib
import io
import tempfile

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from governance.core import access, jobs, moments
from governance.core.audit import audit_record
from governance.core.exceptions import Conflict
from governance.core.models import AuditEvent
from models_registry.models import Model
from risk.exports import audit_log, bags, board_pack, evidence_pack, inventory, self_assessment, supervisor_packs
from risk.exports.forms import BoardPackForm
from risk.exports.models import Export

JOB_KIND = "export"
K = Export.Kind


def _moment(errors: dict, name: str, value, *, end: bool = False):
    """An ISO date or date-time (UTC when no offset) in Vigil's range; a date alone is its midnight (the day
    after, for an end). None, with the error on the field, when it is not one."""
    if value in (None, ""):
        errors[name] = ["Give a date or a date and time (ISO 8601)."]
        return None
    try:
        return moments.parse(str(value), end=end)
    except moments.BadMoment as bad:
        errors[name] = [str(bad)]
        return None


def _audit_log_params(actor, data: dict) -> dict:
    errors: dict = {}
    since, until = _moment(errors, "since", data.get("since")), _moment(errors, "until", data.get("until"), end=True)
    now = timezone.now()
    first = AuditEvent.objects.order_by("timestamp").values_list("timestamp", flat=True).first()
    if since and since > now:
        errors["since"] = ["The start is in the future: nothing is recorded yet."]
    if since and until and since >= until:
        errors["until"] = ["Give an end after the start."]
    elif until and first and until <= first:
        errors["until"] = [f"The audit trail starts on {first:%Y-%m-%d %H:%M} UTC: give an end after it."]
    params = {"since": since.isoformat() if since else None, "until": until.isoformat() if until else None}
    key = (data.get("model") or "").strip() if isinstance(data.get("model"), str) else ""
    if key:
        model = access.get_for_user(Model.objects.all(), actor, key=key)  # 404 for a model out of scope
        params |= {"model": model.key, "model_id": model.pk}
        params["version_ids"] = [str(pk) for pk in model.versions.values_list("pk", flat=True)]
    for name in ("actor", "action"):
        value = data.get(name) or ""
        if not isinstance(value, str) or len(value) > 150 or "\x00" in value:
            errors[name] = ["Give at most 150 characters."]
        elif value.strip():
            params[name] = value.strip()
    # A mistyped name would give an empty file that looks like "nobody did anything": say so instead, to those who
    # read the whole trail (anyone else reads only their own actions, and must not learn who else acted).
    whole_trail = access.sees_everything(actor)
    if whole_trail and "actor" in params and not AuditEvent.objects.filter(actor_username=params["actor"]).exists():
        errors["actor"] = [f"No audit record names a user called {params['actor']!r} (user names are exact)."]
    if (
        whole_trail
        and "action" in params
        and not AuditEvent.objects.filter(action__startswith=params["action"]).exists()
    ):
        errors["action"] = [f'No audit record has an action starting with {params["action"]!r}, e.g. "version.".']
    if errors:
        raise ValidationError(errors)
    return params


def _inventory_params(actor, data: dict) -> dict:
    errors: dict = {}
    params = {"format": data.get("format") or "csv", "as_of": None}
    if params["format"] not in ("csv", "xlsx"):
        errors["format"] = ["Choose csv or xlsx."]
    if data.get("as_of") not in (None, ""):
        as_of = _moment(errors, "as_of", data.get("as_of"), end=True)
        first = AuditEvent.objects.order_by("timestamp").values_list("timestamp", flat=True).first()
        if as_of and as_of > timezone.now():
            errors["as_of"] = ["That moment is in the future: ask for today's inventory instead (no date)."]
        elif as_of and first and as_of < first:
            errors["as_of"] = [f"The audit trail starts on {first:%Y-%m-%d %H:%M} UTC: nothing was recorded before."]
        params["as_of"] = as_of.isoformat() if as_of else None
    if errors:
        raise ValidationError(errors)
    return params


def _model_in_scope(actor, data: dict, errors: dict):
    """The model named by key (404 when the person may not see it), or None with an error on the field."""
    key = data.get("model")
    if not isinstance(key, str) or not key.strip():
        errors["model"] = ["Name the model (its key)."]
        return None
    return access.get_for_user(Model.objects.all(), actor, key=key.strip())


def _evidence_pack_params(actor, data: dict) -> dict:
    errors: dict = {}
    model = _model_in_scope(actor, data, errors)
    label = data.get("version")
    if not isinstance(label, str) or not label.strip():
        errors["version"] = ["Name the version (its label, e.g. 1.2.0)."]
    elif model is not None and evidence_pack.version_for(actor, model, label.strip()) is None:
        errors["version"] = [f"{model.key} has no version {label.strip()!r} that you may see."]
    if errors:
        raise ValidationError(errors)
    version = evidence_pack.version_for(actor, model, label.strip())
    return {"model": model.key, "model_id": model.pk, "version": version.version, "version_id": version.pk}


def _mifid_params(actor, data: dict) -> dict:
    errors: dict = {}
    model = _model_in_scope(actor, data, errors)
    if model is not None and not supervisor_packs.is_algorithmic(model):
        errors["model"] = [
            f"{model.key} is a {model.get_purpose_display().lower()} model: the Art. 17(2) pack covers "
            "algorithmic-trading models (alpha signals and execution)."
        ]
    if errors:
        raise ValidationError(errors)
    return {"model": model.key, "model_id": model.pk}


def _rts6_params(actor, data: dict) -> dict:
    if not access.sees_everything(actor):
        raise PermissionDenied("The firm-wide self-assessment is for compliance and auditors.")
    errors: dict = {}
    year = self_assessment.check_year(errors, data.get("year"))
    if errors:
        raise ValidationError(errors)
    return {"year": year}


def _board_pack_params(actor, data: dict) -> dict:
    """The period (a quarter, or its days) and the dashboards' filters, checked as the dashboards check them."""
    values = {name: data.get(name) for name in ("quarter", "since", "until", *board_pack.FILTER_NAMES)}
    form = BoardPackForm({name: "" if value is None else value for name, value in values.items()}, actor)
    if not form.is_valid():
        raise ValidationError({name: list(errors) for name, errors in form.errors.items()})
    return board_pack.params_of(form.cleaned_data)


CHECKS = {
    K.EVIDENCE_PACK: _evidence_pack_params,
    K.MIFID_17_2: _mifid_params,
    K.RTS6_SELF_ASSESSMENT: _rts6_params,
    K.AUDIT_LOG: _audit_log_params,
    K.INVENTORY: _inventory_params,
    K.MRM_REPORT: _board_pack_params,
}


def export_request(requester, kind: str, **data) -> Export:
    """Check the request and queue its job; 400 by field, 404 for a model the person cannot see."""
    if kind not in CHECKS:
        raise ValidationError({"kind": [f"Choose one of: {', '.join(CHECKS)}."]})
    params = CHECKS[kind](requester, data)
    with transaction.atomic():
        export = Export.objects.create(kind=kind, params=params, requested_by=requester)
        export.job = jobs.enqueue(JOB_KIND, subject=export, requested_by=requester)
        export.save(update_fields=["job"])
        audit_record(
            requester, "export.request", export, changes={"kind": [None, kind], "scope": [None, _shown(params)]}
        )
    return export


def _shown(params: dict) -> dict:
    return {k: v for k, v in params.items() if k not in ("model_id", "version_ids", "version_id")}


# --- The job -------------------------------------------------------------------------------------------------


class _Hashing(io.TextIOBase):
    """A text stream that writes UTF-8 to a binary file and hashes what it writes."""

    def __init__(self, raw):
        self.raw, self.digest, self.size = raw, hashlib.sha256(), 0

    def write(self, text: str) -> int:
        data = text.encode()
        self.raw.write(data)
        self.digest.update(data)
        self.size += len(data)
        return len(text)


def _write_audit_log(export, user, raw, progress) -> dict:
    params = dict(export.params)
    params["since"], params["until"] = parse_datetime(params["since"]), parse_datetime(params["until"])
    stream = _Hashing(raw)
    outcome = audit_log.write(user, params, stream, progress)
    return {"stream": stream, "rows": outcome["rows"], "summary": {"chain": outcome["chain"]}, "ext": "csv"}


def _write_inventory(export, user, raw, progress) -> dict:
    as_of = parse_datetime(export.params["as_of"]) if export.params.get("as_of") else None
    rows = inventory.rows(user, as_of, progress)
    stream = _Hashing(raw)
    write = inventory.write_xlsx if export.params["format"] == "xlsx" else inventory.write_csv
    count = write(rows, stream, _meta(export, user) | {"as_of": as_of})
    summary = {"as_of": export.params.get("as_of") or "now"}
    name = f"vigil-inventory-{f'as-of-{as_of:%Y%m%d-%H%M%S}-' if as_of else ''}{bags.stamp()}"
    return {"stream": stream, "rows": count, "summary": summary, "ext": export.params["format"], "name": name}


def _write_evidence_pack(export, user, raw, progress) -> dict:
    # Checked again when it runs: access taken away since the request means no pack.
    model = access.restrict(Model.objects.filter(pk=export.params["model_id"]), user).first()
    version = evidence_pack.version_for(user, model, export.params["version"]) if model else None
    if version is None or version.pk != export.params["version_id"]:
        raise jobs.JobFailed(f"{export.params['model']} {export.params['version']} is no longer shared with you.")
    name = f"vigil-evidence-{version.model.key}-{version.version}-{bags.stamp()}"
    meta = _meta(export, user)
    bag_info = {
        "External-Identifier": export.reference,
        "External-Description": f"Evidence pack of model {version.model.key} version {version.version}",
        "Contact-Name": evidence_pack.person(user),
    }
    try:
        bags.build(name, evidence_pack.lay_out(version, user, meta, progress), bag_info, raw)
    except bags.MissingFile as error:
        raise jobs.JobFailed(f"{error} The pack was not made: an incomplete pack is never handed out.") from error
    files = version.evidence.count()
    return {"rows": None, "summary": {"evidence_files": files, "folder": name}, "ext": "zip", "name": name}


def _write_mifid(export, user, raw, progress) -> dict:
    model = access.restrict(Model.objects.filter(pk=export.params["model_id"]), user).first()
    if model is None:
        raise jobs.JobFailed(f"{export.params['model']} is no longer shared with you.")
    name = f"vigil-mifid-17-2-{model.key}-{bags.stamp()}"
    bag_info = {
        "External-Identifier": export.reference,
        "External-Description": f"MiFID II Art. 17(2) pack of algorithmic-trading model {model.key}",
        "Contact-Name": evidence_pack.person(user),
    }
    try:
        bags.build(name, supervisor_packs.mifid_lay_out(model, user, _meta(export, user), progress), bag_info, raw)
    except bags.MissingFile as error:
        raise jobs.JobFailed(f"{error} The pack was not made: an incomplete pack is never handed out.") from error
    return {"rows": None, "summary": {"folder": name}, "ext": "zip", "name": name}


def _write_rts6(export, user, raw, progress) -> dict:
    year = export.params["year"]
    name = f"vigil-rts6-self-assessment-{year}-{bags.stamp()}"
    bag_info = {
        "External-Identifier": export.reference,
        "External-Description": f"RTS 6 Art. 9 annual self-assessment for {year}",
        "Contact-Name": evidence_pack.person(user),
    }
    bags.build(name, supervisor_packs.rts6_lay_out(year, _meta(export, user), progress), bag_info, raw)
    return {"rows": None, "summary": {"folder": name, "year": year}, "ext": "zip", "name": name}


def _write_board_pack(export, user, raw, progress) -> dict:
    # The requester's scope when it runs: what they may see now, each widget drawn as its page draws it, as the firm
    # stood at the end of the period (rebuilt from the audit trail when the period has ended; live when it ends today).
    until = dt.date.fromisoformat(export.params["until"])
    filters = board_pack.filters_of(export.params, min(until, timezone.now().date()))
    as_of = timezone.now() if filters.moment is None else filters.moment - dt.timedelta(microseconds=1)
    data = board_pack.collect(user, filters)
    keys = [d.widget.key for d in board_pack.drawn_widgets(data)]
    meta = _meta(export, user)
    about = {
        "title": "Model risk board pack",
        "reference": export.reference,
        "period": board_pack.period_words(export.params),
        "filters": board_pack.filters_words(export.params),
        "as_of": as_of.strftime("%Y-%m-%d %H:%M:%S"),
        "requested_by": f"{evidence_pack.person(user)} ({user.get_username()})",
        "scope": "What the requester may see: each chart counts only the records in their scope.",
        "instance": settings.VIGIL_INSTANCE_NAME,
    }
    name = f"vigil-board-pack-{export.params.get('quarter') or export.params['since'] + '-' + export.params['until']}"
    name = f"{name}-{bags.stamp()}"
    bag_info = {
        "External-Identifier": export.reference,
        "External-Description": f"Model risk board pack for {about['period']}",
        "Contact-Name": evidence_pack.person(user),
        "Period-From": export.params["since"],
        "Period-To": export.params["until"],
        "Filters": about["filters"],
        "As-Of": as_of.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "Requested-By": about["requested_by"],
        "Widgets": ", ".join(keys) or "none",
    }
    if export.params.get("quarter"):
        bag_info["Period-Quarter"] = export.params["quarter"]
    bags.build(name, board_pack.lay_out(data, about, meta, progress), bag_info, raw)
    summary = {"folder": name, "widgets": keys, "indicators": len(data["indicators"]), "as_of": bag_info["As-Of"]}
    return {"rows": None, "summary": summary, "ext": "zip", "name": name}


def _meta(export, user) -> dict:
    return {
        "reference": export.reference,
        "instance": settings.VIGIL_INSTANCE_NAME,
        "generated_at": timezone.now().strftime("%Y-%m-%d %H:%M:%S"),
        "requested_by": evidence_pack.person(user),
    }


WRITERS = {
    K.AUDIT_LOG: _write_audit_log,
    K.INVENTORY: _write_inventory,
    K.EVIDENCE_PACK: _write_evidence_pack,
    K.MIFID_17_2: _write_mifid,
    K.RTS6_SELF_ASSESSMENT: _write_rts6,
    K.MRM_REPORT: _write_board_pack,
}
CONTENT_TYPES = {
    "zip": "application/zip",
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def perform(job, progress) -> dict:
    export = Export.objects.select_related("requested_by").get(pk=int(job.subject_id))
    user = export.requested_by
    if not access.is_active(user):
        raise jobs.JobFailed("The person who asked for it can no longer sign in.")
    with tempfile.TemporaryFile() as raw:
        written = WRITERS[export.kind](export, user, raw, progress)
        name = (
            f"{written.get('name') or 'vigil-' + export.kind.replace('_', '-') + '-' + bags.stamp()}.{written['ext']}"
        )
        if "stream" in written:
            sha256, size = written["stream"].digest.hexdigest(), written["stream"].size
        else:
            sha256, size = bags.hash_file(raw)
        raw.seek(0)
        stored = default_storage.save(f"exports/{export.pk}/{name}", File(raw, name=name))
    now = timezone.now()
    Export.objects.filter(pk=export.pk).update(
        file=stored,
        file_name=name,
        content_type=CONTENT_TYPES[written["ext"]],
        sha256=sha256,
        size=size,
        rows=written["rows"],
        summary=written["summary"],
        finished_at=now,
        expires_at=now + dt.timedelta(hours=settings.VIGIL_EXPORT_KEEP_HOURS),
    )
    export.refresh_from_db()
    audit_record(
        None,
        "export.ready",
        export,
        changes={"sha256": [None, export.sha256], "rows": [None, export.rows]},
        reason=f"{export.get_kind_display()} for {user.get_username()}",
    )
    return {"export": export.pk, "rows": export.rows, "sha256": export.sha256}


def register_job_runner() -> None:
    jobs.register(JOB_KIND, perform)


# --- Reading -------------------------------------------------------------------------------------------------


def state(export) -> str:
    """queued, running, succeeded, failed; or expired once its file is past its keep-until (removed or not yet)."""
    if export.purged_at is not None or (export.expires_at is not None and export.expires_at <= timezone.now()):
        return "expired"
    if export.job is None:
        return "queued"
    return export.job.status


def _utc(text: str):
    return parse_datetime(text).astimezone(dt.UTC)


def _period(since: str, until: str) -> str:
    start, end = _utc(since), _utc(until)
    if start.time() == end.time() == dt.time.min:  # whole days, the end exclusive: name the last day
        return f"{start:%Y-%m-%d} to {end - dt.timedelta(days=1):%Y-%m-%d}"
    return f"{start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M}"


def covers(export) -> str:
    """What an export covers, in words: the model and version, the year, the period and filters, the as-of."""
    p = export.params
    if export.kind == K.EVIDENCE_PACK:
        return f"{p.get('model')} version {p.get('version')}"
    if export.kind == K.MIFID_17_2:
        return f"model {p.get('model')}"
    if export.kind == K.RTS6_SELF_ASSESSMENT:
        return f"year {p.get('year')}"
    if export.kind == K.MRM_REPORT and p.get("since"):
        filters = [f"{name.replace('_', ' ')} {p[name]}" for name in board_pack.FILTER_NAMES if p.get(name) is not None]
        return ", ".join([board_pack.period_words(p), *filters])
    if export.kind == K.INVENTORY:
        when = f"as of {_utc(p['as_of']):%Y-%m-%d %H:%M} UTC" if p.get("as_of") else "as it stood when made"
        return f"{str(p.get('format', 'csv')).upper()}, {when}"
    if export.kind == K.AUDIT_LOG and p.get("since") and p.get("until"):
        filters = [f"{name} {p[name]}" for name in ("model", "actor", "action") if p.get(name)]
        return ", ".join([f"{_period(p['since'], p['until'])} (UTC)", *filters])
    return ""


def open_for_download(actor, export):
    """The file, after recording who downloaded it; 409 when it is not ready or has expired."""
    if export.expires_at and export.expires_at <= timezone.now():
        raise Conflict(f"{export.reference} expired on {export.expires_at:%Y-%m-%d %H:%M} UTC: ask for it again.")
    if state(export) != "succeeded" or not export.file:
        raise Conflict(f"{export.reference} is {state(export)}: there is nothing to download.")
    audit_record(actor, "export.download", export, changes={"sha256": [None, export.sha256]})
    return default_storage.open(export.file, "rb")


def purge_expired() -> int:
    """Beat: remove expired files (their records stay, with the hash of what was handed out)."""
    count = 0
    for export in Export.objects.filter(expires_at__lte=timezone.now(), purged_at__isnull=True).exclude(file=""):
        default_storage.delete(export.file)
        Export.objects.filter(pk=export.pk).update(purged_at=timezone.now())
        audit_record(None, "export.purge", export, reason="The file expired.")
        count += 1
    return count


# --- The audit trail page's download ---------------------------------------------------------------------------


def audit_trail_download(user, filters: dict, up_to: int | None) -> None:
    """A copy of the firm-wide trail leaves Vigil: who took it, with which filters, up to which event (the file holds
    no event recorded after it, this record included)."""
    if not access.can_read_audit_trail(user):
        raise PermissionDenied("The firm-wide audit trail is for compliance and auditors.")
    named = {name: [None, str(value)] for name, value in filters.items() if value}  # each filter given, by name
    with transaction.atomic():
        audit_record(
            user,
            "audit.download",
            None,
            object_type="governance.auditevent",
            object_id="",
            object_repr="audit trail",
            changes={**named, "up_to_event": [None, up_to]},
        )

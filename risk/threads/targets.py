"""What a thread may be about: each kind of governed record, registered with how to fetch it for a person (404
outside their scope), how its scope reads in SQL (the record's own app's rule, through `access.restrict`), its model
and version, its page, and whether it is validation work (hidden from traders, as the rest of validation is).

The five kinds are registered by this app's ready() (`register_defaults`), from the apps below it; a new kind of
record gets threads by registering here, and nothing else in the app changes.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Q
from django.http import Http404
from django.urls import reverse

from governance.core import access
from models_registry.models import ModelVersion
from risk.incidents.models import Incident
from risk.monitoring.models import Monitor
from risk.validation.access import sees_validation_work
from risk.validation.models import Finding, ValidationRun


@dataclass(frozen=True)
class Target:
    kind: str  # in addresses and the database: "version", "run", ...
    label: str  # "validation run"
    record_class: type
    related: tuple[str, ...]  # select_related of a fetch
    model_of: Callable  # record -> Model
    version_of: Callable  # record -> ModelVersion or None
    url: Callable  # record -> its page
    name: Callable  # record -> how the thread page names it
    validation_work: bool

    def visible(self, user):
        """The records of this kind `user` may see: the owning app's rule, unchanged."""
        return access.restrict(self.record_class.objects.all(), user)

    def fetch(self, user, pk):
        """The record, or 404 whether absent or out of the person's scope."""
        try:
            pk = int(pk)
        except (TypeError, ValueError):
            raise Http404("Not found.") from None
        if self.validation_work and not sees_validation_work(user):
            raise Http404("Not found.")
        record = self.visible(user).select_related(*self.related).filter(pk=pk).first()
        if record is None:
            raise Http404("Not found.")
        return record

    def sees(self, user, record) -> bool:
        if self.validation_work and not sees_validation_work(user):
            return False
        return access.can(user, access.VIEW, record)


_targets: dict[str, Target] = {}


def register(target: Target) -> None:
    _targets[target.kind] = target


def get(kind: str) -> Target | None:
    return _targets.get(kind)


def kinds() -> list[str]:
    return list(_targets)


def all_targets() -> list[Target]:
    return list(_targets.values())


def visible_q(user) -> Q:
    """Threads whose record the person may see: one IN per kind, each the record's own rule; a kind that is
    validation work is left out for whoever reads no validation work (traders), whatever its rule says."""
    q = Q(pk__in=[])
    reads_validation = sees_validation_work(user)
    for target in _targets.values():
        if target.validation_work and not reads_validation:
            continue
        q |= Q(target_kind=target.kind, target_id__in=target.visible(user).values("pk"))
    return q


def register_defaults() -> None:
    def version_url(v):
        return reverse("models_registry:version-detail", kwargs={"key": v.model.key, "version": v.version})

    register(
        Target(
            "version",
            "version",
            ModelVersion,
            ("model",),
            lambda v: v.model,
            lambda v: v,
            version_url,
            lambda v: f"version {v.version} of {v.model.key}",
            validation_work=False,
        )
    )
    register(
        Target(
            "run",
            "validation run",
            ValidationRun,
            ("version__model",),
            lambda r: r.version.model,
            lambda r: r.version,
            lambda r: reverse("validation:run-detail", kwargs={"pk": r.pk}),
            lambda r: f"validation run #{r.pk} of {r.version.model.key} {r.version.version}",
            validation_work=True,
        )
    )
    register(
        Target(
            "finding",
            "finding",
            Finding,
            ("version__model",),
            lambda f: f.version.model,
            lambda f: f.version,
            lambda f: reverse("validation:finding-detail", kwargs={"pk": f.pk}),
            lambda f: f"finding #{f.pk} ({f.title}) on {f.version.model.key} {f.version.version}",
            validation_work=True,
        )
    )
    register(
        Target(
            "incident",
            "incident",
            Incident,
            ("model", "version"),
            lambda i: i.model,
            lambda i: i.version,
            lambda i: reverse("incidents:detail", kwargs={"pk": i.pk}),
            lambda i: f"{i.reference} {i.title}",
            validation_work=False,
        )
    )
    register(
        Target(
            "monitor",
            "monitor",
            Monitor,
            ("version__model",),
            lambda m: m.version.model,
            lambda m: m.version,
            lambda m: reverse("monitoring:monitor-detail", kwargs={"pk": m.pk}),
            lambda m: f"monitor #{m.pk} of {m.version.model.key} {m.version.version}",
            validation_work=False,
        )
    )

"""Reads for the incident pages and API, scoped by the access rule (incidents/access.py)."""

from governance.core import access
from risk.incidents.models import Incident
from risk.incidents.services import OPEN_STATUSES


def incident_list(user):
    return access.restrict(Incident.objects.all(), user).select_related("model", "version", "reported_by", "monitor")


def incident_get_for_user(user, pk) -> Incident:
    return access.get_for_user(incident_list(user), user, pk=pk)


def open_for_model(user, model) -> list[Incident]:
    return list(incident_list(user).filter(model=model, status__in=OPEN_STATUSES))

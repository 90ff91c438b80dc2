"""Writes of the dashboards: a page's layout, a person's own or the firm's default."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from governance.core import widgets
from governance.core.audit import audit_record
from risk.dashboards import access
from risk.dashboards.models import DashboardLayout


def layout_save(
    actor, page: str, order: list[str], hidden: list[str], *, firm_default: bool = False
) -> DashboardLayout:
    """Keep `order` and `hidden` (widget keys the actor may see on `page`, checked by the caller's form) for the
    actor, or as the firm's default (compliance; recorded in the audit trail with what it was before)."""
    if firm_default and not access.sets_firm_layout(actor):
        raise PermissionDenied("Only compliance sets the firm's default layout.")
    available = {widget.key for widget in widgets.visible_widgets(actor, page)}
    if not available or set(order) - available or set(hidden) - set(order):
        # Whichever interface calls: only widgets of this page the actor may see, each hidden one also placed.
        raise ValidationError({"order": "Arrange only the widgets of this page that you may see."})
    if order and set(order) <= set(hidden):
        raise ValidationError({"hidden": "Keep at least one widget on the page."})
    owner = None if firm_default else actor
    with transaction.atomic():
        layout, created = DashboardLayout.objects.select_for_update().get_or_create(
            user=owner, page=page, defaults={"order": order, "hidden": hidden}
        )
        before = {"order": [] if created else layout.order, "hidden": [] if created else layout.hidden}
        layout.order, layout.hidden = order, hidden
        layout.save()
        if firm_default:
            changes = {name: [before[name], value] for name, value in (("order", order), ("hidden", hidden))}
            audit_record(actor, "dashboards.layout.firm_default", layout, changes=changes)
    return layout


def layout_reset(actor, page: str) -> None:
    """Back to the firm's default: the person's own arrangement of the page is forgotten."""
    DashboardLayout.objects.filter(user=actor, page=page).delete()

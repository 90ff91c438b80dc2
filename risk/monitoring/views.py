"""Monitoring pages: the model's monitoring panel, a monitor's page (history, definition, governed change),
the firm-wide overview, the schedules, and the queue's list of monitors in warn or breach."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Max
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from governance.core import access, panels
from governance.core.forms_utils import add_service_errors
from governance.core.selectors import object_timeline
from governance.core.templatetags.display import money
from risk.metrics import change
from risk.monitoring import charts, monitors, proposals, selectors
from risk.monitoring.access import can_change_monitor, can_push, may_change_schedules
from risk.monitoring.forms import MonitorChangeForm, ScheduleChangeForm
from risk.monitoring.measures import MEASURES, RULES, format_value, label, rule_summary
from risk.monitoring.models import Monitor, MonitorCycle, MonitorResult


def _decorate(monitor) -> None:
    """What every page shows of a monitor, in words and units."""
    measure = MEASURES[monitor.measure]
    monitor.label = label(monitor)
    monitor.measure_def = measure

    def fmt(value):
        return format_value(measure.unit, value, money)

    monitor.warn_text, monitor.breach_text = fmt(monitor.warn), fmt(monitor.breach)
    monitor.side = "above" if monitor.direction == "above" else "below"
    monitor.value_text = fmt(monitor.latest.value) if getattr(monitor, "latest", None) else "—"
    monitor.window_text = (
        "since the last data"
        if monitor.measure == "staleness"
        else "the last day"
        if (monitor.window, measure.window_unit) == (1, "days")
        else f"latest {counted(monitor.window, measure.window_unit)}"
    )
    monitor.minimum_text = counted(monitor.min_rows, measure.window_unit)
    monitor.baseline_text = fmt(monitor.params["baseline"]) if monitor.params.get("baseline") is not None else ""
    monitor.schedule_text = monitor.schedule.name.removeprefix("Monitoring: ")
    if monitor.measure in RULES:
        monitor.rule_text = rule_summary(monitor.measure, monitor.params)
    if monitor.kind == "drift":
        monitor.false_alarms = _false_alarms(monitor)
        at_minimum = monitor.false_alarms[0]
        monitor.false_alarm_text = (
            f"Judged once {at_minimum['size']} rows are in; with no drift the warn threshold fires "
            f"{at_minimum['warn']} of the time at that size, {monitor.false_alarms[-1]['warn']} at {monitor.window}."
        )


def _form_units(monitor) -> dict:
    from django.conf import settings

    return {"unit": MEASURES[monitor.measure].unit, "currency": settings.VIGIL_REPORTING_CURRENCY}


def counted(n: int, unit: str) -> str:
    """ "1 day", "500 labelled predictions": the unit in the singular for one."""
    return f"{n:,} {unit.removesuffix('s') if n == 1 else unit}"


def _false_alarms(monitor) -> list[dict]:
    """The false-alarm rate the thresholds imply with no drift at all, at the minimum and the full window."""
    rate = change.psi_false_alarm_rate if monitor.measure == "psi" else change.ks_false_alarm_rate
    reference = 1000
    return [
        {
            "size": size,
            "warn": _percent(rate(monitor.warn, size, reference)),
            "breach": _percent(rate(monitor.breach, size, reference)),
        }
        for size in sorted({max(1, monitor.min_rows), monitor.window})
    ]


def _percent(rate: float) -> str:
    return "under 0.01 %" if rate < 1e-4 else f"{100 * rate:.2f} %"


def monitoring_panel(request, model) -> dict | None:
    """The model page's monitoring panel: each monitor of its live versions, latest outcome, history chart."""
    rows = selectors.model_monitors(request.user, model)
    if not rows:
        return None
    history = selectors.history(rows, limit=120)
    for monitor in rows:
        _decorate(monitor)
        monitor.chart = charts.history_div(monitor, history[monitor.pk], height=180)
    versions = {}
    # Worst first within each version: what needs a look is at the top of the grid.
    worst_first = sorted(rows, key=lambda m: -selectors.SEVERITY[m.latest.outcome if m.latest else None])
    for monitor in worst_first:
        versions.setdefault(monitor.version, []).append(monitor)
    shown = [
        (version, monitors, proposals.criteria_watch(model.success_criteria, monitors))
        for version, monitors in versions.items()
    ]
    return {"monitor_versions": shown, "worst": _worst(rows), "can_backfill": can_push(request.user, model)}


def _worst(rows):
    outcomes = [m.latest.outcome for m in rows if m.latest]
    return max(outcomes, key=lambda o: selectors.SEVERITY[o]) if outcomes else None


def queue_panel(request, _obj) -> dict | None:
    rows = selectors.alerting_monitors(request.user)
    for monitor in rows:
        _decorate(monitor)
    return {"alerting": rows} if rows else None


RESULTS_PER_PAGE = 200


def monitor_detail(request, pk):
    monitor = selectors.monitor_get_for_user(request.user, pk)
    can_change = can_change_monitor(request.user, monitor)
    form = None
    if request.method == "POST":
        if not can_change:
            raise PermissionDenied("Only the model's validator or compliance changes a monitor.")
        form = MonitorChangeForm(request.POST, **_form_units(monitor))
        if form.is_valid():
            try:
                monitors.monitor_change(request.user, monitor, **form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, "Monitor changed: the new settings apply from its next evaluation.")
                return redirect("monitoring:monitor-detail", pk=monitor.pk)
        messages.error(request, "Monitor not changed: see the fields below.")
    # Newest first, RESULTS_PER_PAGE at a time: the page says how many it shows of how many and links to the rest.
    results_page = Paginator(monitor.results.order_by("-slot"), RESULTS_PER_PAGE).get_page(request.GET.get("page"))
    results = list(results_page)
    on_first_page = results_page.number == 1
    monitor.latest = (results[0] if results else None) if on_first_page else monitor.results.order_by("-slot").first()
    _decorate(monitor)
    if can_change and form is None:
        initial = {k: getattr(monitor, k) for k in ("warn", "breach", "window", "min_rows", "schedule")}
        form = MonitorChangeForm(initial=initial, **_form_units(monitor))
    for result in results:
        unit = monitor.measure_def.unit
        result.value_text = format_value(unit, result.value, money)
        result.config_text = (
            f"warn {monitor.side} {format_value(unit, result.config['warn'], money)}, "
            f"breach {monitor.side} {format_value(unit, result.config['breach'], money)}, "
            f"window {result.config['window']:,}"
        )
    return render(
        request,
        "monitoring/monitor_detail.html",
        {
            "monitor": monitor,
            "model": monitor.version.model,
            "results": results,
            "results_page": results_page,
            "chart": charts.history_div(monitor, list(reversed(results)), height=320),
            "form": form if can_change else None,
            "timeline": object_timeline(request.user, monitor),
            "record_panels": panels.build(panels.MONITOR_PAGE, request, monitor),
        },
    )


def overview(request):
    outcome = request.GET.get("outcome", "")
    if outcome not in ("", *MonitorResult.Outcome.values):
        outcome = ""
    rows = selectors.overview(request.user, outcome)
    return render(
        request,
        "monitoring/overview.html",
        {"rows": rows, "outcome": outcome, "outcomes": MonitorResult.Outcome.choices},
    )


def schedules(request):
    tasks = list(monitors.monitoring_schedules())
    visible = access.restrict(Monitor.objects.all(), request.user).filter(
        active=True, version__status__in=selectors.MONITORED
    )
    last_cycles = dict(
        MonitorCycle.objects.filter(schedule__in=tasks)
        .values("schedule")
        .annotate(at=Max("slot"))
        .values_list("schedule", "at")
    )
    counts = dict(visible.order_by().values("schedule").annotate(n=Count("pk")).values_list("schedule", "n"))
    for task in tasks:
        task.description = monitors.describe_schedule(task)
        task.monitor_count = counts.get(task.pk, 0)
        task.last_cycle = last_cycles.get(task.pk)  # beat records its own last run only every few minutes
    return render(
        request,
        "monitoring/schedules.html",
        {"tasks": tasks, "can_change": may_change_schedules(request.user)},
    )


def schedule_edit(request, pk):
    if not may_change_schedules(request.user):
        raise PermissionDenied("Only compliance changes monitoring schedules.")
    task = get_object_or_404(monitors.monitoring_schedules(), pk=pk)
    if request.method == "POST":
        form = ScheduleChangeForm(request.POST)
        if form.is_valid():
            try:
                monitors.schedule_change(request.user, task, **form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, f"{task.name} changed.")
                return redirect("monitoring:schedules")
        messages.error(request, "Schedule not changed: see the fields below.")
    else:
        initial = {"enabled": task.enabled, "kind": "interval" if task.interval_id else "daily"}
        if task.interval_id:
            initial |= {"every": task.interval.every, "period": task.interval.period}
        elif task.crontab_id and task.crontab.hour.isdigit() and task.crontab.minute.isdigit():
            initial["at"] = f"{int(task.crontab.hour):02d}:{int(task.crontab.minute):02d}"
        form = ScheduleChangeForm(initial=initial)
    return render(
        request,
        "monitoring/schedule_form.html",
        {
            "task": task,
            "description": monitors.describe_schedule(task),
            "form": form,
            "timeline": object_timeline(request.user, task),
            "back": reverse("monitoring:schedules"),
        },
    )

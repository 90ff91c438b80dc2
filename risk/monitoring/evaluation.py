"""One evaluation of one monitor: read its window of live data as of the cycle's tick, measure, grade.

Every window ends at the cycle's slot, so a redelivered cycle reads what the first attempt read. A window
without enough rows, a reference window not yet filled, or data the measure cannot use gives "insufficient
data" with the reason: there is never a silent pass when there is nothing to judge.
"""

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
from django.db import IntegrityError, transaction
from django.db.models import OuterRef, Subquery
from scipy import stats

from governance.core import events
from governance.core.audit import jsonable
from governance.core.signatures import canonical_hash
from risk.metrics import change, classification, drift, overfitting
from risk.metrics._checks import MetricInputError
from risk.monitoring import selectors
from risk.monitoring.measures import MEASURES, REFERENCE_PREDICTIONS
from risk.monitoring.models import IngestBatch, Monitor, MonitorResult, Prediction, ReferenceWindow, Trade

Outcome = MonitorResult.Outcome
REFERENCE_DAYS = 5  # days of trading whose daily trade count is the reference
# Stream points (after batching) a change rule standardises against. Estimating the mean and spread from few
# points shortens the run between false alarms well below the published figure; 100 keeps it near.
REFERENCE_POINTS = 100
RULE_HISTORY = 200  # points a change rule runs over before the window it judges, so its sums are warmed up


class Insufficient(Exception):
    """Nothing to judge yet: the message says what is missing."""


@dataclass
class Reading:
    value: float | None
    rows: int = 0
    data_from: dt.datetime | None = None
    data_to: dt.datetime | None = None
    detail: dict = field(default_factory=dict)


def config_of(monitor: Monitor) -> dict:
    """What a result records it ran with; its hash tells results of different configurations apart."""
    return {
        "measure": monitor.measure,
        "stream": monitor.stream,
        "direction": monitor.direction,
        "warn": monitor.warn,
        "breach": monitor.breach,
        "window": monitor.window,
        "min_rows": monitor.min_rows,
        "params": monitor.params,
        "schedule": monitor.schedule.name,
        "config_version": monitor.config_version,
    }


def grade(direction: str, warn: float, breach: float, value: float) -> str:
    """Strictly past a threshold alerts, as validation passes a test that meets its threshold exactly."""
    if direction == "above":
        return Outcome.BREACH if value > breach else Outcome.WARN if value > warn else Outcome.OK
    return Outcome.BREACH if value < breach else Outcome.WARN if value < warn else Outcome.OK


@dataclass
class Measured:
    monitor: Monitor
    outcome: str
    reading: Reading
    reason: str = ""


def measure(monitor: Monitor, slot: dt.datetime, data: "LiveData | None" = None) -> Measured:
    """Read the monitor's window as of `slot` and grade it (writes nothing but a reference window the first
    time one fills)."""
    data = data or LiveData(monitor.version, slot)
    reading = Reading(None)
    try:
        reading = READERS[monitor.measure](monitor, slot, data)
        if reading.rows < monitor.min_rows or reading.value is None:
            unit = MEASURES[monitor.measure].window_unit
            raise Insufficient(
                f"{reading.rows} {unit} in the window; at least {max(1, monitor.min_rows)} are needed to judge."
            )
        return Measured(monitor, grade(monitor.direction, monitor.warn, monitor.breach, reading.value), reading)
    except (Insufficient, MetricInputError) as missing:
        return Measured(monitor, Outcome.INSUFFICIENT, reading, str(missing)[:500])


def _result(measured: Measured, slot, cycle) -> MonitorResult:
    config, reading = config_of(measured.monitor), measured.reading
    value = reading.value if reading.value is not None and np.isfinite(reading.value) else None
    return MonitorResult(
        monitor=measured.monitor,
        slot=slot,
        cycle=cycle,
        outcome=measured.outcome,
        value=value if measured.outcome != Outcome.INSUFFICIENT or value is not None else None,
        reason=measured.reason,
        config=config,
        config_hash=canonical_hash(config),
        rows=reading.rows,
        data_from=reading.data_from,
        data_to=reading.data_to,
        detail=jsonable(reading.detail),
    )


def _emit_alerts(results) -> None:
    """A warn or breach emits its event in the transaction that records it: the event exists exactly when the
    result does."""
    for result in results:
        if result.outcome in (Outcome.WARN, Outcome.BREACH):
            version = result.monitor.version
            payload = {"result": result.pk, "monitor": result.monitor_id, "version": version.pk}
            payload |= {"model": version.model.key, "outcome": result.outcome, "value": result.value}
            events.emit("monitoring.alert", payload | {"slot": result.slot})


def note_latest(monitor_ids) -> int:
    """Keep each monitor's newest outcome, its tick and the start of its run of breaches on the monitor itself, from
    its results (one statement, in the caller's transaction): what the dashboards read as its state now. Read from
    the results rather than from the one just written, so a late result for an older tick changes nothing it
    should not. A derived copy of the results, not a governed change: nothing to audit beyond the result."""
    newest = MonitorResult.objects.filter(monitor=OuterRef("pk")).order_by("-slot")
    return Monitor.objects.filter(pk__in=list(monitor_ids)).update(
        latest_outcome=Subquery(newest.values("outcome")[:1]),
        latest_slot=Subquery(newest.values("slot")[:1]),
        breach_since=selectors.breach_run_start(),
    )


def record(measured: Measured, slot, cycle=None) -> MonitorResult | None:
    """Record one result; None when (monitor, slot) was recorded already (another worker, an earlier delivery
    of the same cycle)."""
    try:
        with transaction.atomic():
            result = _result(measured, slot, cycle)
            result.save()
            note_latest([result.monitor_id])
            _emit_alerts([result])
    except IntegrityError:
        return None
    return result


def record_many(measured: list[Measured], slot, cycle=None) -> list[MonitorResult]:
    """Record the results of one version's monitors in one insert; if another worker recorded some of them in
    the meantime, fall back to one at a time (each then stands or falls alone)."""
    try:
        with transaction.atomic():
            results = MonitorResult.objects.bulk_create([_result(m, slot, cycle) for m in measured])
            note_latest({r.monitor_id for r in results})
            _emit_alerts(results)
            return results
    except IntegrityError:
        return [r for r in (record(m, slot, cycle) for m in measured) if r is not None]


def evaluate(monitor: Monitor, slot: dt.datetime, cycle=None) -> MonitorResult | None:
    """Measure and record one monitor for one slot; None when that slot was recorded already."""
    return record(measure(monitor, slot), slot, cycle)


class LiveData:
    """One version's live data as of one slot, read once and shared by all its monitors in a cycle (each
    window is a slice of the newest rows, fetched once at the largest size asked)."""

    def __init__(self, version, slot):
        self.version, self.slot = version, slot
        self._newest_cache: dict = {}
        self._since: dict[int, list] = {}
        self._unlabelled: dict = {}
        self._references: dict | None = None

    def _newest(self, name, queryset, columns, n) -> "Window":
        """The newest n rows (value columns only; each row keeps a None where its timestamp would be, so that
        row[1:] are the columns after "timestamp") with the times of the oldest and newest: converting thousands
        of timestamps costs more than any measure computed from them."""
        cached = self._newest_cache.get(name)
        ordered = queryset.order_by("-timestamp", "-id")
        if cached is None or cached[0] < n:
            rows = [(None, *r) for r in ordered.values_list(*columns[1:])[:n]]
            rows.reverse()
            cached = (n, rows, {})
            self._newest_cache[name] = cached
        rows, firsts = cached[1][-n:], cached[2]
        if not rows:
            return Window([], None, None)
        if len(rows) not in firsts:
            firsts[len(rows)] = ordered.values_list("timestamp", flat=True)[len(rows) - 1]
        if "last" not in firsts:
            firsts["last"] = ordered.values_list("timestamp", flat=True).first()
        return Window(rows, firsts[len(rows)], firsts["last"])

    def labelled(self, n: int) -> "Window":
        """(None, prediction, score, outcome) of the newest n labelled predictions."""
        rows = Prediction.objects.filter(version=self.version, outcome__isnull=False, timestamp__lt=self.slot)
        return self._newest("labelled", rows, ("timestamp", "prediction", "score", "outcome"), n)

    def label_lag_hours(self) -> float | None:
        """The median time from prediction to reported outcome of the 50 newest labels, in hours."""
        if "lag" not in self._newest_cache:
            rows = Prediction.objects.filter(version=self.version, outcome__isnull=False, timestamp__lt=self.slot)
            lags = [
                (outcome_at - moment).total_seconds() / 3600
                for moment, outcome_at in rows.order_by("-timestamp").values_list("timestamp", "outcome_at")[:50]
                if outcome_at is not None
            ]
            self._newest_cache["lag"] = float(np.median(lags)) if lags else None
        return self._newest_cache["lag"]

    def predictions(self, n: int) -> "Window":
        """(None, features, score) of the newest n predictions, labelled or not."""
        rows = Prediction.objects.filter(version=self.version, timestamp__lt=self.slot)
        return self._newest("predictions", rows, ("timestamp", "features", "score"), n)

    def trades(self, n: int) -> "Window":
        """(None, pnl, expected_slippage, realised_slippage) of the newest n trades."""
        rows = Trade.objects.filter(version=self.version, timestamp__lt=self.slot)
        return self._newest("trades", rows, TRADE_COLUMNS, n)

    def trades_in_days(self, days: int) -> list:
        if days not in self._since:
            rows = Trade.objects.filter(
                version=self.version, timestamp__lt=self.slot, timestamp__gte=self.slot - dt.timedelta(days=days)
            )
            self._since[days] = list(rows.order_by("timestamp", "id").values_list(*TRADE_COLUMNS))
        return self._since[days]

    def unlabelled_since(self, moment) -> int:
        if moment not in self._unlabelled:
            self._unlabelled[moment] = Prediction.objects.filter(
                version=self.version, outcome__isnull=True, timestamp__gte=moment, timestamp__lt=self.slot
            ).count()
        return self._unlabelled[moment]

    def reference(self, name: str) -> ReferenceWindow | None:
        if self._references is None:
            self._references = {r.stream: r for r in ReferenceWindow.objects.filter(version=self.version)}
        return self._references.get(name)

    def remember(self, reference: ReferenceWindow) -> ReferenceWindow:
        self.reference(reference.stream)
        self._references[reference.stream] = reference
        return reference


@dataclass
class Window:
    rows: list
    first: dt.datetime | None
    last: dt.datetime | None


TRADE_COLUMNS = ("timestamp", "pnl", "expected_slippage", "realised_slippage")


# --- readers: one per measure, each returns a Reading or raises Insufficient --------------------------------


def performance(monitor, slot, data) -> Reading:
    window = data.labelled(monitor.window)
    rows = window.rows
    reading = Reading(None, len(rows), window.first, window.last, {"label_lag_hours": data.label_lag_hours()})
    if not rows:
        raise Insufficient("No prediction has its outcome yet: performance is judged on labelled rows only.")
    reading.detail["unlabelled_in_window"] = data.unlabelled_since(reading.data_from)
    _, predicted, scores, outcomes = (np.array(column, dtype=object) for column in zip(*rows, strict=True))
    y_true, y_pred = outcomes.astype(float), predicted.astype(float)
    measure = monitor.measure
    if measure in ("rmse", "mae", "directional_accuracy"):
        error = y_true - y_pred
        reading.value = {
            "rmse": lambda: float(np.sqrt(np.mean(error**2))),
            "mae": lambda: float(np.mean(np.abs(error))),
            "directional_accuracy": lambda: float(np.mean(np.sign(y_true) == np.sign(y_pred))),
        }[measure]()
    elif measure in ("roc_auc", "calibration_error"):
        if any(s is None for s in scores):
            raise Insufficient("Some labelled predictions carry no score; this measure needs every score.")
        kernel = classification.roc_auc if measure == "roc_auc" else classification.calibration_error
        reading.value = kernel(y_true, scores.astype(float))
    else:
        reading.value = classification.scores_from_confusion(classification.confusion(y_true, y_pred))[measure]
    return reading


def _feature_values(stream, rows) -> tuple[list, list]:
    times, values = [], []
    for moment, features, score in rows:
        value = score if stream == "score" else features.get(stream)
        if value is not None:
            times.append(moment)
            values.append(float(value))
    return times, values


def _window_reading(window: Window, value=None, **detail) -> Reading:
    return Reading(value, len(window.rows), window.first, window.last, detail)


def drift_reference(data, stream) -> ReferenceWindow:
    """The version's first REFERENCE_PREDICTIONS predictions, frozen once there are that many."""
    name = f"prediction:{stream}"
    reference = data.reference(name)
    if reference is not None:
        return reference
    first = Prediction.objects.filter(version=data.version).order_by("timestamp", "id")[:REFERENCE_PREDICTIONS]
    times, values = _feature_values(stream, first.values_list("timestamp", "features", "score"))
    if len(values) < REFERENCE_PREDICTIONS:
        raise Insufficient(
            f"The reference window freezes the first {REFERENCE_PREDICTIONS} predictions; {len(values)} so far."
        )
    return _freeze(data, name, values, times[0], times[-1])


def _freeze(data, name, values, data_from, data_to) -> ReferenceWindow:
    try:
        with transaction.atomic():
            reference = ReferenceWindow.objects.create(
                version=data.version,
                stream=name,
                values=values,
                rows=len(values),
                data_from=data_from,
                data_to=data_to,
            )
    except IntegrityError:  # frozen by another worker at the same moment: theirs stands
        reference = ReferenceWindow.objects.get(version=data.version, stream=name)
    return data.remember(reference)


def drift_measure(monitor, slot, data) -> Reading:
    reference = drift_reference(data, monitor.stream)
    window = data.predictions(monitor.window)
    _, values = _feature_values(monitor.stream, window.rows)
    reading = Reading(None, len(values), window.first if values else None, window.last if values else None)
    reading.detail = {"reference_rows": reference.rows, "reference_from": reference.data_from}
    if values:
        reading.value = (drift.psi if monitor.measure == "psi" else drift.ks_statistic)(reference.values, values)
        rate = change.psi_false_alarm_rate if monitor.measure == "psi" else change.ks_false_alarm_rate
        reading.detail["false_alarm_rate_warn"] = rate(monitor.warn, len(values), reference.rows)
    return reading


def _reading(rows, value=None, **detail) -> Reading:
    return Reading(value, len(rows), rows[0][0] if rows else None, rows[-1][0] if rows else None, detail)


def _daily_pnl(rows) -> np.ndarray:
    days: dict[dt.date, float] = {}
    for moment, pnl, _, _ in rows:
        days[moment.date()] = days.get(moment.date(), 0.0) + pnl
    return np.array([days[d] for d in sorted(days)])


def trade_count(monitor, slot, data) -> Reading:
    name = "trades:daily_count"
    reference = data.reference(name)
    if reference is None:
        first = Trade.objects.filter(version=monitor.version, timestamp__lt=slot).order_by("timestamp")
        start = first.values_list("timestamp", flat=True).first()
        if start is None or slot - start < dt.timedelta(days=REFERENCE_DAYS):
            raise Insufficient(f"The reference is the daily trade count of the first {REFERENCE_DAYS} days of trading.")
        end = start + dt.timedelta(days=REFERENCE_DAYS)
        counts = [0] * REFERENCE_DAYS
        for moment in first.filter(timestamp__lt=end).values_list("timestamp", flat=True):
            counts[min(REFERENCE_DAYS - 1, int((moment - start).total_seconds() // 86400))] += 1
        reference = _freeze(data, name, counts, start, end)
    rows = data.trades_in_days(monitor.window)
    per_day = float(np.mean(reference.values))
    return _reading(rows, (len(rows) / monitor.window) / per_day, reference_per_day=per_day, trades=len(rows))


def pnl(monitor, slot, data) -> Reading:
    rows = data.trades_in_days(monitor.window)
    return _reading(rows, float(sum(r[1] for r in rows)))


def sharpe_band(monitor, slot, data) -> Reading:
    rows = data.trades_in_days(monitor.window)
    daily = _daily_pnl(rows)
    reading = _reading(rows, days=len(daily))
    reading.rows = len(daily)  # this measure's window is counted in trading days
    if len(daily) < max(2, monitor.min_rows):
        return reading
    sd = float(np.std(daily, ddof=1))
    if not sd > 0:
        raise Insufficient("Daily P&L did not vary in the window: there is no Sharpe ratio to place.")
    live = float(np.mean(daily)) / sd
    backtest = monitor.params["backtest_sharpe"] / np.sqrt(monitor.params["periods_per_year"])
    skew, kurtosis = float(stats.skew(daily)), float(stats.kurtosis(daily, fisher=False))
    reading.value = overfitting.probabilistic_sharpe(live, backtest, len(daily), skew, kurtosis)
    reading.detail.update(live_sharpe_annualised=live * np.sqrt(monitor.params["periods_per_year"]))
    return reading


def drawdown(monitor, slot, data) -> Reading:
    rows = data.trades_in_days(monitor.window)
    equity = np.cumsum([r[1] for r in rows]) if rows else np.zeros(0)
    fall = float(np.max(np.maximum.accumulate(np.concatenate(([0.0], equity))) - np.concatenate(([0.0], equity))))
    return _reading(rows, fall / monitor.params["notional"], drawdown_money=fall)


def hit_rate(monitor, slot, data) -> Reading:
    window = data.trades(monitor.window)
    return _window_reading(window, float(np.mean([r[1] > 0 for r in window.rows])) if window.rows else None)


def losing_streak(monitor, slot, data) -> Reading:
    window = data.trades(monitor.window)
    longest = current = 0
    for _, trade_pnl, _, _ in window.rows:
        current = current + 1 if trade_pnl < 0 else 0
        longest = max(longest, current)
    return _window_reading(window, float(longest))


def slippage(monitor, slot, data) -> Reading:
    window = data.trades(monitor.window)
    rows = [r for r in window.rows if r[2] is not None and r[3] is not None]
    reading = _window_reading(Window(rows, window.first if rows else None, window.last if rows else None))
    if rows:
        expected = float(np.mean([abs(r[2]) for r in rows]))
        if expected == 0:
            raise Insufficient("The trades expected no slippage at all: there is nothing to compare against.")
        reading.value = float(np.mean([abs(r[3]) for r in rows])) / expected
    return reading


def trading_hours_between(start: dt.datetime, end: dt.datetime) -> float:
    """Hours from start to end that fall on Monday to Friday (UTC). Exchange holidays are not known to Vigil:
    a holiday counts as a trading day, which errs towards alerting."""
    hours, day = 0.0, start
    while day < end:
        next_day = dt.datetime.combine(day.date() + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
        if day.weekday() < 5:
            hours += (min(end, next_day) - day).total_seconds() / 3600
        day = next_day
    return hours


def staleness(monitor, slot, data) -> Reading:
    last = (
        IngestBatch.objects.filter(version=monitor.version, received_at__lt=slot)
        .order_by("-received_at")
        .values_list("received_at", flat=True)
        .first()
    )
    since = last or monitor.created_at
    return Reading(
        trading_hours_between(since, slot) if since < slot else 0.0,
        rows=1,
        data_to=last,
        detail={"last_received": last, "never_reported": last is None},
    )


def _batched(values, batch) -> np.ndarray:
    values = np.asarray(values, dtype=float)
    usable = values.size // batch * batch
    return values[:usable].reshape(-1, batch).mean(axis=1) if usable else np.zeros(0)


def _stream_value(monitor):
    if monitor.stream == "accuracy":
        if monitor.params.get("model_type") == "regressor":
            return lambda row: float(np.sign(row[1]) == np.sign(row[3]))
        return lambda row: float(row[1] == row[3])
    if monitor.stream == "losing_trades":
        return lambda row: float(row[1] < 0)
    return lambda row: float(row[1])


def _first_stream_rows(monitor, slot, n):
    """The first n raw observations of a change monitor's stream (to freeze its reference)."""
    if monitor.stream == "accuracy":
        rows = Prediction.objects.filter(version=monitor.version, outcome__isnull=False, timestamp__lt=slot)
        rows = rows.values_list("timestamp", "prediction", "score", "outcome")
    else:
        rows = Trade.objects.filter(version=monitor.version, timestamp__lt=slot).values_list(*TRADE_COLUMNS)
    picked, value = list(rows.order_by("timestamp", "id")[:n]), _stream_value(monitor)
    return [r[0] for r in picked], [value(r) for r in picked]


def _newest_stream_rows(monitor, slot, after, batch):
    """The newest RULE_HISTORY x batch raw observations of the stream after its reference window, in time order,
    with the times of the first and last (read apart: converting thousands of timestamps costs more than the
    rule)."""
    n = max(RULE_HISTORY, monitor.window) * monitor.params["batch"]
    if monitor.stream == "accuracy":
        rows = Prediction.objects.filter(version=monitor.version, outcome__isnull=False)
        columns = ("timestamp", "prediction", "score", "outcome")
    else:
        rows = Trade.objects.filter(version=monitor.version)
        columns = TRADE_COLUMNS
    after_reference = rows.filter(timestamp__gt=after, timestamp__lt=slot)
    # Batches are counted from the end of the reference, so each keeps its observations from one cycle to the
    # next; the newest incomplete batch waits for its last observations.
    pending = after_reference.count() % batch
    newest = after_reference.order_by("-timestamp", "-id")
    value = _stream_value(monitor)
    # The value columns only, with None for the timestamp (the stream functions never read it).
    picked = [(None, *r) for r in newest.values_list(*columns[1:])[pending : pending + n]]
    if not picked:
        return None, None, []
    last = newest.values_list("timestamp", flat=True)[pending]
    first = newest.values_list("timestamp", flat=True)[pending + len(picked) - 1]
    picked.reverse()
    return first, last, [value(r) for r in picked]


def change_rule(monitor, slot, data) -> Reading:
    batch = monitor.params["batch"]
    name = f"change:{monitor.stream}"
    reference = data.reference(name)
    if reference is None:
        times, raw = _first_stream_rows(monitor, slot, REFERENCE_POINTS * batch)
        if len(raw) < REFERENCE_POINTS * batch:
            raise Insufficient(
                f"The reference window freezes the first {REFERENCE_POINTS * batch} observations; {len(raw)} so far."
            )
        reference = _freeze(data, name, _batched(raw, batch).tolist(), times[0], times[-1])
    first, last, raw = _newest_stream_rows(monitor, slot, reference.data_to, batch)
    points = _batched(raw, batch)
    # The rule runs over the recent history; the monitor judges its last `window` points: an alarm stays in
    # view for that many new points, then clears.
    judged = min(monitor.window, points.size)
    reading = Reading(None, judged, first if judged else None, last if judged else None)
    reading.detail = {"reference_points": reference.rows, "batch": batch, "history_points": int(points.size)}
    if points.size:
        z = change.standardise(points, reference.values)
        p = monitor.params
        if monitor.measure == "cusum":
            levels = change.cusum_levels(z, p.get("k", 0.5), p.get("h", 5.0))
        else:
            levels = change.ewma_levels(z, p.get("lambda", 0.1), p.get("L", 2.814))
        window = levels[-judged:]
        reading.value = float(window.max())
        reading.detail["latest_level"] = float(levels[-1])
        reading.detail["alarms"] = int(np.count_nonzero(window > 1))
    return reading


READERS = {
    **dict.fromkeys(
        ["accuracy", "precision", "recall", "roc_auc", "calibration_error", "rmse", "mae", "directional_accuracy"],
        performance,
    ),
    "psi": drift_measure,
    "ks": drift_measure,
    "trade_count": trade_count,
    "pnl": pnl,
    "sharpe_band": sharpe_band,
    "drawdown": drawdown,
    "hit_rate": hit_rate,
    "losing_streak": losing_streak,
    "slippage": slippage,
    "staleness": staleness,
    "cusum": change_rule,
    "ewma": change_rule,
}

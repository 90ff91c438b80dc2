"""The monitors a version gets when it enters pilot, proposed from its validation plan and validated figures.

The baseline is the validation run the validator's signature rests on (else the version's latest succeeded
run). Decisions, so that live figures are judged on the scale the model was approved on:

- performance (classifiers: accuracy, precision, recall, ROC AUC, calibration; regressors: RMSE, MAE,
  directional accuracy): warn at the plan's pass threshold, breach at its fail threshold (the validated figure
  is shown beside them); RMSE and MAE, which have no plan threshold, warn at 1.25 and breach at 1.5 times the
  validated figure;
- drift (PSI and KS of each feature and of the score): PSI warn 0.10, breach 0.25; KS warn 0.10, breach 0.20,
  over the latest 500 predictions against the first 1,000 (frozen); the minimum window is the smallest whose
  false-alarm rate at the warn threshold is at most 5%;
- trading: trades a day at most 2x (warn) and 3x (breach) the first week's; the day's P&L warn below -1% and
  breach below -2% of the pilot's maximum notional; the live Sharpe's percentile in the backtest's
  probabilistic Sharpe distribution (63 days, at least 20) warn below 5%, breach below 1%; drawdown against
  the backtest's maximum (warn) and 1.5 times it (breach); hit rate at the plan's pass and fail thresholds;
  losing streaks a 200-trade window reaches by chance 5% and 1% of the time; slippage 1.5x and 2x expected;
- staleness: warn after 4 trading hours without data, breach after 8;
- sudden change: two-sided CUSUM (k 0.5, h 5) on the accuracy stream (models with predictions) and on losing
  trades and P&L per trade (trading models); warn at 0.8 of the decision limit, breach at an alarm;
- the model's own success criteria (its problem definition, issue 24): a criterion on a figure a proposed monitor
  measures moves that monitor's warn threshold to the criterion where the criterion is the stricter: falling short
  of what the firm called success is a warning, the plan's fail threshold stays the breach (what validation
  accepted at the least). A criterion no live monitor measures (a Sharpe ratio, which is watched as a percentile
  of the backtest's distribution; an execution figure Vigil is not fed) is said so beside it (`criteria_watch`).
"""

from django.db import transaction

from governance.core.audit import audit_record
from governance.core.models import Signature
from models_registry.problem import criterion_text
from risk.metrics import change
from risk.monitoring import schedules as beat_schedules
from risk.monitoring.measures import (
    CHANGE_STREAMS,
    CLASSIFIER_PERFORMANCE,
    MEASURES,
    REFERENCE_PREDICTIONS,
    REGRESSOR_PERFORMANCE,
)
from risk.monitoring.models import FeatureSet, Monitor
from risk.validation import plans
from risk.validation.models import ValidationRun

# The schedules monitors run on (django-celery-beat entries; compliance edits them).
FREQUENT, HOURLY, DAILY = beat_schedules.FREQUENT, beat_schedules.HOURLY, beat_schedules.DAILY
SCHEDULE_OF_KIND = {"performance": HOURLY, "drift": HOURLY, "trading": FREQUENT, "staleness": FREQUENT}
SCHEDULE_OF_KIND["change"] = FREQUENT
DAILY_MEASURES = {"sharpe_band", "drawdown"}

DRIFT_WINDOW = 500
TRADE_WINDOW = 200
SIGNED_MEANINGS = (Signature.Meaning.VALIDATED, Signature.Meaning.VALIDATED_WITH_CONDITIONS)


def baseline_run(version) -> ValidationRun | None:
    """The run the validation signature cites, else the latest succeeded run of the version."""
    runs = ValidationRun.objects.filter(
        version=version, status=ValidationRun.Status.SUCCEEDED, kind=ValidationRun.Kind.VALIDATION
    )
    signed = (
        Signature.objects.filter(object_type="models_registry.modelversion", object_id=str(version.pk))
        .filter(meaning__in=SIGNED_MEANINGS)
        .order_by("-signed_at")
        .values_list("payload", flat=True)
        .first()
    )
    cited = (signed or {}).get("validation_run") or {}
    run = runs.filter(pk=cited.get("id")).first() if cited.get("id") else None
    return run or runs.order_by("-finished_at", "-id").first()


def _figures(run, version=None) -> dict:
    """The validated figures; without a validation run on record, the figures the developer claimed."""
    if run is not None:
        return {f["metric"]: f["value"] for f in run.metrics}
    claimed = (version.claimed_performance or {}) if version is not None else {}
    return {k: float(v) for k, v in claimed.items() if isinstance(v, int | float) and not isinstance(v, bool)}


def baseline_source(run) -> str:
    return f"validation run #{run.pk}" if run else "the developer's claimed figures (no validation run on record)"


def _plan_tests(template: str, run) -> dict:
    """The plan's graded tests by metric: the run's snapshot, else the template's."""
    tests = run.plan_snapshot["tests"] if run else plans.TEMPLATES[template]["tests"]
    defaults = {t["metric"]: t for t in plans.TEMPLATES[template]["tests"]}
    return {**defaults, **{t["metric"]: t for t in tests}}


def _monitor(version, measure, schedules, *, stream="", warn, breach, window, min_rows=1, **params) -> Monitor:
    m = MEASURES[measure]
    schedule = DAILY if measure in DAILY_MEASURES else SCHEDULE_OF_KIND[m.kind]
    return Monitor(
        version=version,
        kind=m.kind,
        measure=measure,
        stream=stream,
        direction=m.direction,
        warn=float(warn),
        breach=float(breach),
        window=window,
        min_rows=min_rows,
        params={k: v for k, v in params.items() if v is not None},
        schedule=schedules[schedule],
    )


def _performance(version, template, run, schedules) -> list[Monitor]:
    kind = "classifier" if template.endswith("classifier") else "regressor"
    tests, figures = _plan_tests(kind, run), _figures(run, version)
    out = []
    for measure in CLASSIFIER_PERFORMANCE if kind == "classifier" else REGRESSOR_PERFORMANCE:
        baseline = figures.get(measure)
        if measure in tests:
            warn, breach = tests[measure]["pass"], tests[measure]["fail"]
        elif baseline:  # RMSE, MAE: no plan threshold, a tolerance on the validated figure
            warn, breach = 1.25 * baseline, 1.5 * baseline
        else:
            continue
        out.append(
            _monitor(
                version, measure, schedules, warn=warn, breach=breach, window=1000, min_rows=200, baseline=baseline
            )
        )
    return out


def drift_monitors(version, streams, schedules) -> list[Monitor]:
    minimum = change.psi_minimum_window(0.10, REFERENCE_PREDICTIONS, 0.05) or DRIFT_WINDOW
    out = []
    for stream in streams:
        out.append(
            _monitor(
                version,
                "psi",
                schedules,
                stream=stream,
                warn=0.10,
                breach=0.25,
                window=DRIFT_WINDOW,
                min_rows=min(minimum, DRIFT_WINDOW),
                bins=10,
            )
        )
        out.append(
            _monitor(
                version,
                "ks",
                schedules,
                stream=stream,
                warn=0.10,
                breach=0.20,
                window=DRIFT_WINDOW,
                min_rows=min(minimum, DRIFT_WINDOW),
            )
        )
    return out


def _trading(version, template, run, schedules) -> list[Monitor]:
    figures, tests = _figures(run, version), _plan_tests("strategy", run)
    notional = float(getattr(getattr(version, "pilot", None), "max_notional", 0) or 0)
    options = {**plans.DEFAULT_OPTIONS, **(run.plan_snapshot.get("options", {}) if run else {})}
    hit = figures.get("hit_rate")
    loss_rate = min(0.95, max(0.05, 1 - hit)) if hit is not None else 0.5
    out = [
        _monitor(version, "trade_count", schedules, warn=2.0, breach=3.0, window=1, min_rows=0),
        _monitor(
            version,
            "hit_rate",
            schedules,
            warn=tests["hit_rate"]["pass"],
            breach=tests["hit_rate"]["fail"],
            window=TRADE_WINDOW,
            min_rows=50,
            baseline=hit,
        ),
        _monitor(
            version,
            "losing_streak",
            schedules,
            warn=change.longest_run_threshold(loss_rate, TRADE_WINDOW, 0.05) - 1,
            breach=change.longest_run_threshold(loss_rate, TRADE_WINDOW, 0.01) - 1,
            window=TRADE_WINDOW,
            min_rows=50,
            loss_rate=loss_rate,
        ),
        _monitor(version, "slippage", schedules, warn=1.5, breach=2.0, window=TRADE_WINDOW, min_rows=20),
    ]
    if notional > 0:
        out.append(
            _monitor(
                version,
                "pnl",
                schedules,
                warn=-0.01 * notional,
                breach=-0.02 * notional,
                window=1,
                min_rows=0,
                notional=notional,
            )
        )
        if figures.get("max_drawdown"):
            mdd = figures["max_drawdown"]
            out.append(
                _monitor(
                    version,
                    "drawdown",
                    schedules,
                    warn=mdd,
                    breach=1.5 * mdd,
                    window=365,
                    min_rows=1,
                    notional=notional,
                    baseline=mdd,
                )
            )
    if figures.get("sharpe") is not None:
        out.append(
            _monitor(
                version,
                "sharpe_band",
                schedules,
                warn=0.05,
                breach=0.01,
                window=63,
                min_rows=20,
                backtest_sharpe=figures["sharpe"],
                periods_per_year=options["periods_per_year"],
            )
        )
    return out


def _change(version, streams, model_type, schedules) -> list[Monitor]:
    return [
        _monitor(
            version,
            "cusum",
            schedules,
            stream=s,
            warn=0.8,
            breach=1.0,
            window=20,
            min_rows=1,
            k=0.5,
            h=5.0,
            batch=CHANGE_STREAMS[s][1],
            model_type=model_type,
        )
        for s in streams
    ]


def proposal(version) -> list[Monitor]:
    """The monitors this version should have (unsaved), from its plan and its validated figures."""
    run = baseline_run(version)
    template = run.plan_snapshot["template"] if run else plans.template_for(version.model)
    schedules = beat_schedules.defaults()
    monitors = [_monitor(version, "staleness", schedules, warn=4, breach=8, window=1, min_rows=0)]
    trading = template.startswith("strategy")
    predicts = template != "strategy"
    if predicts:
        model_type = "classifier" if template.endswith("classifier") else "regressor"
        monitors += _performance(version, template, run, schedules)
        monitors += drift_monitors(version, _feature_streams(version, model_type), schedules)
    if trading:
        monitors += _trading(version, template, run, schedules)
    streams = (["accuracy"] if predicts else []) + (["losing_trades", "pnl"] if trading else [])
    monitors += _change(version, streams, model_type if predicts else "", schedules)
    for monitor in monitors:
        monitor.params["baseline_source"] = baseline_source(run)
    _meet_success_criteria(monitors, version.model.success_criteria)
    return monitors


# A success criterion's metric -> the measure that watches it live, where the names differ; a criterion naming a
# measure's code (hit_rate, accuracy, rmse, ...) is watched by that measure.
CRITERION_MEASURES = {"max_drawdown": "drawdown"}
# Which operators say "at least" and "at most": a criterion agrees with a measure whose bad side is the other one.
AT_LEAST, AT_MOST = (">", ">="), ("<", "<=")
NOT_LIVE = {
    "sharpe": "the live Sharpe ratio is watched as a percentile of the backtest's distribution, not against a "
    "fixed figure; the criterion is checked at revalidation",
}


def criterion_measure(criterion: dict) -> str | None:
    """The measure that watches a success criterion live, or None: its metric names no measure, or the criterion
    points the other way from the measure's bad side (an 'at most' on a figure where low is bad)."""
    metric = str(criterion.get("metric", ""))
    code = CRITERION_MEASURES.get(metric, metric)
    measure = MEASURES.get(code)
    operator = criterion.get("operator")
    if measure is None or not (
        (measure.direction == "below" and operator in AT_LEAST)
        or (measure.direction == "above" and operator in AT_MOST)
    ):
        return None
    return code


def _meet_success_criteria(monitors, criteria) -> None:
    """Warn where the model stops meeting its own success criterion, when that is stricter than the plan's pass."""
    by_measure = {m.measure: m for m in monitors if not m.stream}
    for criterion in criteria or []:
        code = criterion_measure(criterion) if isinstance(criterion, dict) else None
        monitor = by_measure.get(code)
        if monitor is None:
            continue
        value = float(criterion["value"])
        stricter = value > monitor.warn if monitor.direction == "below" else value < monitor.warn
        if stricter:
            monitor.warn = value
        monitor.params["success_criterion"] = criterion_text(criterion)


def criteria_watch(criteria, monitors) -> list[dict]:
    """Each success criterion (a model's) with the live monitor of a version that watches it, or why none does."""
    by_measure = {m.measure: m for m in monitors if not m.stream}
    out = []
    for criterion in criteria or []:
        if not isinstance(criterion, dict):
            continue
        code = criterion_measure(criterion)
        monitor = by_measure.get(code)
        if monitor is not None:
            why = ""
        elif criterion.get("metric") in NOT_LIVE:
            why = NOT_LIVE[criterion["metric"]]
        elif code is not None:
            why = "no live monitor of this version measures it"
        else:
            why = "no live measure of this figure: Vigil is not fed it; it is checked at revalidation"
        out.append({"criterion": criterion_text(criterion), "monitor": monitor, "why": why})
    return out


def _feature_streams(version, model_type) -> list[str]:
    """The score (classifiers) and each feature the version reports (fixed by its first batch, if any yet)."""
    fixed = FeatureSet.objects.filter(version=version).values_list("names", flat=True).first() or []
    return (["score"] if model_type == "classifier" else []) + list(fixed)


@transaction.atomic
def propose(version, actor=None) -> list[Monitor]:
    """Create the proposed monitors a version does not have yet (safe to call again), audited."""
    existing = set(Monitor.objects.filter(version=version).values_list("measure", "stream"))
    new = [m for m in proposal(version) if (m.measure, m.stream) not in existing]
    if not new:
        return []
    created = Monitor.objects.bulk_create(new)
    audit_record(
        actor,
        "monitors_proposed",
        version,
        changes={"monitors": [None, sorted(f"{m.measure} {m.stream}".strip() for m in created)]},
        reason="Proposed from the validation plan and validated figures when the version entered pilot.",
    )
    return created


def add_feature_monitors(versions) -> list[Monitor]:
    """Drift monitors for features that became known after the proposal (fixed by the first predictions).
    Two queries for all the versions of a cycle's part, whatever their number; a proposal only where a
    feature lacks its monitor."""
    by_pk = {v.pk: v for v in versions}
    features = dict(FeatureSet.objects.filter(version_id__in=by_pk).values_list("version_id", "names"))
    proposed: dict[int, set] = {}
    for version_id, kind, stream in Monitor.objects.filter(version_id__in=features).values_list(
        "version_id", "kind", "stream"
    ):
        streams = proposed.setdefault(version_id, set())  # not proposed yet: the proposal at pilot adds them
        if kind == Monitor.Kind.DRIFT:
            streams.add(stream)
    created = []
    for version_id, streams in proposed.items():
        if set(features[version_id]) - streams:
            created += propose(by_pk[version_id])
    return created

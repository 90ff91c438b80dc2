"""Sudden-change rules and the false-alarm rate of drift thresholds, against their published figures on seeded
synthetic series (the figures the monitoring pages state beside each rule)."""

import numpy as np
import pytest

from risk.metrics import change, drift
from risk.metrics._checks import MetricInputError


def in_control_run_length(alarms_of, seeds, n=1_000_000) -> float:
    points = alarms = 0
    for seed in seeds:
        z = np.random.default_rng(seed).standard_normal(n)
        points, alarms = points + n, alarms + len(alarms_of(z))
    return points / alarms


def detection_delay(alarms_of, shift=1.0, before=500, after=300, trials=400) -> float:
    """Mean observations from a known break to the first alarm after it."""
    delays = []
    for seed in range(trials):
        rng = np.random.default_rng(10_000 + seed)
        series = np.concatenate([rng.standard_normal(before), rng.standard_normal(after) + shift])
        late = [i for i in alarms_of(series) if i >= before]
        delays.append(late[0] - before + 1 if late else after)
    return float(np.mean(delays))


def test_cusum_false_alarms_match_its_stated_run_length():
    # Two-sided CUSUM, k = 0.5, h = 5: about 465 observations between false alarms (2,000,000 points,
    # about 4,300 alarms: the estimate's standard error is about 1.5%).
    assert in_control_run_length(change.cusum_alarms, seeds=(1, 2)) == pytest.approx(465, rel=0.08)


def test_cusum_catches_a_one_sigma_shift_in_about_ten_observations():
    assert detection_delay(change.cusum_alarms) == pytest.approx(change.CUSUM.one_sigma_delay, abs=1.5)


def test_ewma_false_alarms_match_its_stated_run_length():
    assert in_control_run_length(change.ewma_alarms, seeds=(3, 4)) == pytest.approx(500, rel=0.08)


def test_ewma_catches_a_one_sigma_shift_in_about_ten_observations():
    assert detection_delay(change.ewma_alarms) == pytest.approx(change.EWMA.one_sigma_delay, abs=1.5)


def test_a_stationary_stream_alarms_only_as_often_as_stated():
    """5,000 in-control points: at one false alarm per ~465, about 11 alarms are expected; 30 seeded streams
    average within the band, and a chart that alarmed every few points would not."""
    counts = [len(change.cusum_alarms(np.random.default_rng(s).standard_normal(5000))) for s in range(30)]
    assert np.mean(counts) == pytest.approx(5000 / 465, rel=0.2)
    assert max(counts) < 25


def test_a_break_is_flagged_within_the_stated_delay_and_not_before():
    rng = np.random.default_rng(2026)
    reference = rng.normal(0.55, 0.03, 250)  # a frozen window of daily accuracy
    live = np.concatenate([rng.normal(0.55, 0.03, 200), rng.normal(0.52, 0.03, 100)])  # -1 sigma from day 200
    alarms = change.cusum_alarms(change.standardise(live, reference))
    after = [i for i in alarms if i >= 200]
    assert after and after[0] - 200 < 30


def test_standardising_against_a_constant_reference_is_refused():
    with pytest.raises(MetricInputError):
        change.standardise([1.0, 2.0], [0.5, 0.5, 0.5])


def test_psi_false_alarm_rates_match_the_figures_for_small_windows():
    assert change.psi_false_alarm_rate(0.10, 100, 100) == pytest.approx(0.83, abs=0.01)
    assert change.psi_false_alarm_rate(0.10, 200, 200) == pytest.approx(0.35, abs=0.01)
    assert change.psi_false_alarm_rate(0.25, 5000, 5000) < 1e-6


def test_the_psi_false_alarm_approximation_agrees_with_simulation():
    rng = np.random.default_rng(7)
    fired = np.mean([drift.psi(rng.standard_normal(100), rng.standard_normal(100)) > 0.10 for _ in range(2000)])
    assert fired == pytest.approx(change.psi_false_alarm_rate(0.10, 100, 100), abs=0.04)


def test_the_minimum_window_keeps_false_alarms_under_the_rate():
    window = change.psi_minimum_window(0.10, reference=2000, rate=0.05)
    assert change.psi_false_alarm_rate(0.10, window, 2000) <= 0.05 < change.psi_false_alarm_rate(0.10, window - 1, 2000)
    assert change.psi_minimum_window(0.001, reference=100, rate=0.05) is None


@pytest.mark.slow(reason="imports scipy.stats, the reference, which alone takes 1-2 s")
def test_the_closed_form_survival_functions_agree_with_scipy():
    """chi2_sf and kolmogorov_sf stand in for SciPy's (whose import cost a page seconds, issue 21)."""
    from scipy import stats

    for df in (1, 2, 3, 4, 9, 10, 19):
        for x in (0.0, 0.01, 0.5, 1.0, 3.2, 8.0, 20.0, 60.0, 400.0):
            assert change.chi2_sf(x, df) == pytest.approx(stats.chi2.sf(x, df), rel=1e-9, abs=1e-300)
    for x in (0.0, 0.05, 0.2, 0.3, 0.5, 0.8, 0.99, 1.0, 1.2, 1.5, 2.0, 3.0, 6.0):
        assert change.kolmogorov_sf(x) == pytest.approx(stats.kstwobign.sf(x), rel=1e-9, abs=1e-15)

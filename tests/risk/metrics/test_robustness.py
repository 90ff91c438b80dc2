"""Robustness kernels against figures recomputed by hand from their definitions (and SciPy where it has one)."""

import datetime as dt

import numpy as np
import pytest
from scipy import stats
from sklearn.metrics import r2_score

from risk.metrics import backtest, robustness
from risk.metrics._checks import MetricInputError

RNG = np.random.default_rng(20261208)
COEF = np.array([2.0, -1.0, 0.0, 0.5])


@pytest.fixture(scope="module")
def linear():
    X = RNG.normal(size=(800, 4)) * np.array([1.0, 3.0, 1.0, 0.2])
    y = X @ COEF + RNG.normal(scale=0.5, size=800)
    return X, y


def predict(X):
    return np.nan_to_num(X) @ COEF  # a model that reads a missing value as 0


def test_the_spread_is_the_normal_scaled_iqr_or_the_sd_where_the_iqr_is_zero():
    X = np.column_stack([RNG.standard_t(3, 1000), np.r_[np.zeros(900), np.ones(100)], np.full(1000, 2.0)])
    spread = robustness.spread(X)
    assert spread[0] == pytest.approx(stats.iqr(X[:, 0], scale="normal"), rel=1e-12)
    assert spread[1] == pytest.approx(X[:, 1].std(ddof=1), rel=1e-12)
    assert spread[2] == 0


def test_perturbation_recomputes_by_hand(linear):
    X, y = linear
    out = robustness.perturbation(predict, r2_score, X, y, levels=(0.1, 0.5), seed=3)
    rng = np.random.default_rng(3)
    spread = robustness.spread(X)
    assert out["baseline"] == pytest.approx(r2_score(y, predict(X)), abs=1e-12)
    for j in range(4):
        z = rng.standard_normal(len(y))
        for level, row in zip((0.1, 0.5), out["features"][j]["levels"], strict=True):
            noisy = X.copy()
            noisy[:, j] += z * level * spread[j]
            assert row["score"] == pytest.approx(r2_score(y, predict(noisy)), abs=1e-12)
            assert row["degradation"] == pytest.approx(out["baseline"] - row["score"], abs=1e-12)
    z = rng.standard_normal(X.shape)
    for level, row in zip((0.1, 0.5), out["all_features"], strict=True):
        assert row["score"] == pytest.approx(r2_score(y, predict(X + z * level * spread)), abs=1e-12)


def test_noise_hurts_more_as_it_grows_and_not_at_all_on_an_unused_feature(linear):
    X, y = linear
    out = robustness.perturbation(predict, r2_score, X, y, seed=1)
    unused = out["features"][2]
    assert [row["degradation"] for row in unused["levels"]] == [0.0, 0.0, 0.0]
    used = [row["degradation"] for row in out["features"][0]["levels"]]
    assert 0 < used[0] < used[1] < used[2]
    assert out["all_features"][-1]["degradation"] > used[-1]
    assert "missing" not in out["features"][0]  # the caller did not say the model accepts missing values
    assert out == robustness.perturbation(predict, r2_score, X, y, seed=1)  # seeded


def test_missing_values_where_the_model_accepts_them(linear):
    X, y = linear
    out = robustness.perturbation(predict, r2_score, X, y, levels=(0.1,), accepts_missing=True, missing_share=0.2)
    assert out["features"][2]["missing"]["degradation"] == 0.0
    assert out["features"][0]["missing"]["degradation"] > 0
    with pytest.raises(MetricInputError, match="X has a NaN or infinite value at row 0, column 1"):
        robustness.perturbation(predict, r2_score, np.where(np.eye(800, 4, 1) > 0, np.nan, X), y)


def _days(start: str, count: int) -> np.ndarray:
    first = np.datetime64(start, "D")
    days = np.arange(first, first + np.timedelta64(count * 2, "D"))
    weekdays = days[np.is_busday(days)][:count]
    return weekdays.astype("datetime64[ns]").astype(np.int64)


def test_scenarios_report_each_window_against_the_whole_sample():
    t = _days("2007-01-01", 1100)  # about 2007-01 to 2011-03
    r = RNG.normal(0.0003, 0.01, t.size)
    out = robustness.scenarios(t, r)
    dates = [dt.datetime.fromtimestamp(v / 1e9, dt.UTC).date() for v in t]
    inside = np.array([dt.date(2008, 9, 1) <= d <= dt.date(2009, 3, 31) for d in dates])
    crisis, flash, franc, covid, rates, *later = out["windows"]  # later: 2023 and 2024 windows
    assert crisis["status"] == "inside the data" and crisis["periods"] == inside.sum()
    expected = backtest.backtest_report(r[inside])
    assert crisis["figures"] == pytest.approx(expected, abs=1e-12)
    assert crisis["difference"]["sharpe"] == pytest.approx(expected["sharpe"] - out["whole"]["sharpe"], abs=1e-12)
    day = dates.index(dt.date(2010, 5, 6))
    assert flash["note"] == "too few periods" and flash["figures"]["total_return"] == r[day]
    assert [w["status"] for w in (franc, covid, rates, *later)] == ["outside the data"] * (3 + len(later))


def test_a_window_the_data_covers_in_part_and_intraday_timestamps():
    t = np.arange(np.datetime64("2020-03-01T09:00"), np.datetime64("2020-06-01T09:00"), np.timedelta64(1, "D"))
    r = RNG.normal(0, 0.01, t.size)
    (covid,) = robustness.scenarios(t, r, windows=[("2020-02-20", "2020-04-30", "Covid")])["windows"]
    assert covid["status"] == "partly inside the data"
    assert covid["periods"] == 61  # 1 March to 30 April, the last day's 09:00 included


def test_bad_windows_and_timestamps_name_the_problem():
    t, r = _days("2020-01-01", 10), np.zeros(10) + 0.01
    r[0] = -0.01
    with pytest.raises(MetricInputError, match="start of mine 'soon' is not a date"):
        robustness.scenarios(t, r, windows=[("soon", "2020-01-05", "mine")])
    with pytest.raises(MetricInputError, match="the window mine ends before it starts"):
        robustness.scenarios(t, r, windows=[("2020-01-05", "2020-01-01", "mine")])
    with pytest.raises(MetricInputError, match="timestamps have 9 values and returns 10"):
        robustness.scenarios(t[:-1], r)


def test_transaction_costs_by_hand_and_the_breakeven_multiple():
    positions = np.sign(RNG.normal(size=500)) * RNG.uniform(0.5, 1, 500)
    returns = RNG.normal(0.002, 0.01, 500)
    cost = 0.0005
    out = robustness.transaction_costs(returns, positions, cost, periods_per_year=252)
    turnover = np.abs(np.diff(np.r_[0.0, positions]))
    for row in out["rows"]:
        net = returns - row["multiple"] * cost * turnover
        assert row["sharpe"] == pytest.approx(backtest.sharpe_ratio(net), abs=1e-12)
        assert row["total_return"] == pytest.approx(np.prod(1 + net) - 1, abs=1e-12)
    m = out["breakeven_multiple"]
    assert np.mean(returns - m * cost * turnover) == pytest.approx(0, abs=1e-15)
    assert out["edge"] == "sharpe"
    m = out["total_return_breakeven_multiple"]
    assert np.prod(1 + returns - m * cost * turnover) == pytest.approx(1, abs=1e-9)


def test_no_edge_before_costs_and_nothing_traded():
    returns = RNG.normal(-0.001, 0.01, 300)
    assert robustness.transaction_costs(returns, np.ones(300), 0.001)["breakeven_multiple"] == 0.0
    out = robustness.transaction_costs(np.abs(returns), np.zeros(300), 0.001)
    assert out["breakeven_multiple"] is None and out["total_return_breakeven_multiple"] is None
    with pytest.raises(MetricInputError, match="cost per unit turnover"):
        robustness.transaction_costs(returns, np.ones(300), -1)


def _trials(sharpes_per_period):
    """Columns with exactly these per-period Sharpe ratios (mean / sd with ddof=1)."""
    base = RNG.normal(size=200)
    base = (base - base.mean()) / base.std(ddof=1)
    return np.column_stack([base + s for s in sharpes_per_period])


def test_parameter_sensitivity_on_a_grid():
    lookbacks, thresholds = [10, 20, 40], [0.25, 0.5]
    names, sharpe = [], []
    for threshold in thresholds:  # out of grid order on purpose
        for lookback in reversed(lookbacks):
            names.append(f"lookback={lookback};threshold={threshold}")
            sharpe.append(0.01 * lookback + (0.3 if (lookback, threshold) == (40, 0.5) else 0))
    out = robustness.parameter_sensitivity(_trials(sharpe), names, periods_per_year=1)
    by_name = dict(zip(names, sharpe, strict=True))
    moves = []
    for i, lookback in enumerate(lookbacks):
        for j, threshold in enumerate(thresholds):
            here = by_name[f"lookback={lookback};threshold={threshold}"]
            if i + 1 < len(lookbacks):
                moves.append(abs(by_name[f"lookback={lookbacks[i + 1]};threshold={threshold}"] - here))
            if j + 1 < len(thresholds):
                moves.append(abs(by_name[f"lookback={lookback};threshold={thresholds[j + 1]}"] - here))
    assert out["grid"] and out["parameters"] == ["lookback", "threshold"]
    assert out["neighbour_pairs"] == len(moves) == 7
    assert out["largest_move"] == pytest.approx(max(moves), abs=1e-12)
    assert out["median_move"] == pytest.approx(np.median(moves), abs=1e-12)
    assert set(out["largest_between"]) == {"lookback=20;threshold=0.5", "lookback=40;threshold=0.5"}


@pytest.mark.parametrize("separator", [",", "|", " ; "])
def test_other_separators_parse(separator):
    assert robustness.parse_configuration(f"lookback=20{separator}model=ridge") == {"lookback": 20.0, "model": "ridge"}


def test_names_that_do_not_parse_make_adjacent_columns_neighbours():
    sharpe = [0.1, 0.5, 0.2, 0.25]
    out = robustness.parameter_sensitivity(_trials(sharpe), ["a", "b", "lookback=3", "d"], periods_per_year=1)
    assert not out["grid"] and out["neighbour_pairs"] == 3
    assert out["largest_move"] == pytest.approx(0.4, abs=1e-12)
    assert out["median_move"] == pytest.approx(0.3, abs=1e-12)
    with pytest.raises(MetricInputError, match="2 columns and 3 names"):
        robustness.parameter_sensitivity(_trials([0.1, 0.2]), ["a", "b", "c"])
    with pytest.raises(MetricInputError, match="two columns name the same configuration"):
        robustness.parameter_sensitivity(_trials([0.1, 0.2]), ["x=1", "x=1.0"])

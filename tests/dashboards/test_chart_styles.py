"""Each status keeps its colour and pattern on every chart, whichever other statuses the data holds (issue 22: a
missing status shifted the others' colours), and a heatmap names its rows whole at a desktop's width."""

import pytest

from governance.core import widgets
from governance.core.widgets import TONES, Dimension
from risk.dashboards import charts
from risk.exports import board_charts

pytestmark = pytest.mark.django_db


def _rows(widget, second_values) -> list[dict]:
    first = widget.dimensions[0]
    value = first.values[0] if first.values else "a"
    return [
        {first.field: value, widget.dimensions[1].field: second, "count": 2, widget.chart_value: 2}
        for second in second_values
    ]


def _series_styles(figure) -> dict:
    return {
        trace["name"]: (
            trace["marker"]["color"],
            trace["marker"]["pattern"]["shape"],
            trace["marker"]["pattern"]["fgcolor"],
        )
        for trace in figure["data"]
    }


STACKED = [w for w in widgets.all_widgets() if w.chart in ("bar", "hbar") and len(w.dimensions) == 2]


@pytest.mark.parametrize("widget", [w for w in STACKED if w.dimensions[1].values], ids=lambda w: w.key)
def test_a_series_keeps_its_colour_and_pattern_when_another_value_is_missing(widget):
    second = widget.dimensions[1]
    everything = _series_styles(charts.figure(widget, _rows(widget, second.values), ["/x"] * len(second.values)))
    assert len(set(everything.values())) == len(second.values)  # no two series alike
    for missing in second.values:
        kept = [v for v in second.values if v != missing]
        if not kept:
            continue
        some = _series_styles(charts.figure(widget, _rows(widget, kept), ["/x"] * len(kept)))
        assert some == {name: everything[name] for name in some}, missing
        # The board pack draws each series alike.
        bars = board_charts.bars_of(widget, _rows(widget, kept))
        for (name, _values), (fill, hatch) in zip(bars.series, bars.styles, strict=True):
            assert (fill, hatch) == (everything[name][0], board_charts.HATCH_OF[everything[name][1]])


def test_tones_differ_by_pattern_as_well_as_colour():
    assert set(charts.TONE_STYLES) == TONES
    fills = [fill for fill, _shape, _ink in charts.TONE_STYLES.values()]
    shapes = [shape for _fill, shape, _ink in charts.TONE_STYLES.values()]
    assert len(set(fills)) == len(fills) and len(set(shapes)) == len(shapes)


def test_every_toned_dimension_gives_each_of_its_values_its_own_tone():
    toned = {d.field + "@" + w.key: d for w in widgets.all_widgets() for d in w.dimensions if d.tones}
    assert {"status@my-monitors", "status@monitoring-heatmap", "severity@open-incidents"} <= set(toned)
    for name, dimension in toned.items():
        assert len(set(dimension.tones)) == len(dimension.values), name
    with pytest.raises(ValueError, match="one tone"):
        Dimension("state", "State", str, ("a", "b"), tones=("good",))
    with pytest.raises(ValueError, match="one tone"):
        Dimension("state", "State", str, ("a",), tones=("pink",))


def test_a_single_series_of_statuses_colours_each_bar_by_its_own_status():
    widget = widgets.get("my-monitors")
    status = widget.dimensions[0]
    some = [{"status": value, "count": 1} for value in status.values if value != "ok"]
    (trace,) = charts.figure(widget, some, ["/x"] * len(some))["data"]
    assert trace["y" if widget.chart == "hbar" else "x"] == [status.display(row["status"]) for row in some]
    assert trace["marker"]["color"] == [charts.TONE_STYLES[status.tone(row["status"])][0] for row in some]
    assert trace["marker"]["pattern"]["shape"] == [charts.TONE_STYLES[status.tone(row["status"])][1] for row in some]
    breach = some[-1]["status"]
    assert trace["marker"]["color"][-1] == charts.TONE_STYLES["bad"][0] and breach == "breach"


def test_a_heatmap_colours_a_state_alike_whichever_states_its_cells_hold():
    widget = widgets.get("monitoring-heatmap")
    status = widget.dimensions[2]

    def colour_of(state, others):
        rows = [
            {"model_key": f"m{i}", "kind": "drift", "status": s, "count": 1, "label": f"M{i}"}
            for i, s in enumerate([state, *others])
        ]
        trace = charts.figure(widget, rows, ["/x"] * len(rows))["data"][0]
        scale, level = trace["colorscale"], trace["z"][0][0]
        low, high = trace["zmin"], trace["zmax"]
        at = (level - low) / (high - low)
        return next(colour for (start, colour), (end, _c) in zip(scale, scale[1:], strict=False) if start <= at <= end)

    for state in status.values:
        alone = colour_of(state, [])
        assert alone == charts.TONE_STYLES[status.tone(state)][0]
        assert colour_of(state, ["breach"]) == alone and colour_of(state, ["ok", "warn"]) == alone


def test_a_heatmap_names_its_rows_whole_on_a_desktop_and_cut_on_a_phone():
    widget = widgets.get("monitoring-heatmap")
    long_name = "Systematic equities intraday momentum signal (EU)"  # 50 characters
    rows = [
        {"model_key": "long", "kind": "drift", "status": "ok", "count": 1, "label": long_name},
        {"model_key": "twin", "kind": "drift", "status": "warn", "count": 1, "label": long_name[:30] + " (US)"},
        {"model_key": "short", "kind": "drift", "status": "breach", "count": 1, "label": "Rates carry"},
    ]
    figure = charts.figure(widget, rows, ["/a", "/b", "/c"])
    trace, axis = figure["data"][0], figure["layout"]["yaxis"]
    assert trace["y"] == ["long", "twin", "short"] == axis["tickvals"]  # placed by key: two cut names stay apart
    assert axis["ticktext"][1:] == [long_name[:30] + " (US)", "Rates carry"]  # whole at a desktop's width
    assert axis["ticktext"][0] == long_name[: charts.WIDE_LABEL - 1] + "…"
    assert len(long_name) > charts.WIDE_LABEL
    narrow = figure["layout"]["meta"]["narrow"]["yaxis.ticktext"]
    assert all(len(label) <= charts.NARROW_LABEL for label in narrow) and len(set(narrow)) == 3
    assert narrow[2] == "Rates carry"
    assert trace["hovertext"][0][0] == f"{long_name} · {trace['x'][0]}: OK"  # the whole name in the hover


def test_labels_cut_alike_are_numbered():
    assert charts.cut_labels(["abcdefghij", "abcdefghik", "abc"], 6) == ["abcde…", "abc… 2", "abc"]

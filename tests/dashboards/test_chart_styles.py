"""Each status keeps its colour and pattern on every chart, whichever other statuses the data holds (issue 22: a
missing status shifted the others' colours), a heatmap names its rows whole at a desktop's width, and a chart says how
it is drawn on a phone (issue 22, the monitoring page at 390 pixels)."""

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
    narrow = figure["layout"]["meta"]["narrow"]["layout"]["yaxis.ticktext"]
    assert all(len(label) <= charts.NARROW_LABEL for label in narrow) and len(set(narrow)) == 3
    assert narrow[2] == "Rates carry"
    assert trace["hovertext"][0][0] == f"{long_name} · {trace['x'][0]}: OK"  # the whole name in the hover


def test_labels_cut_alike_are_numbered():
    assert charts.cut_labels(["abcdefghij", "abcdefghik", "abc"], 6) == ["abcde…", "abc… 2", "abc"]


def _states_heatmap():
    widget = widgets.get("monitoring-heatmap")
    rows = [
        {"model_key": "a", "kind": "performance", "status": "insufficient", "count": 1, "label": "Rates carry"},
        {"model_key": "a", "kind": "drift", "status": "none", "count": 2, "label": "Rates carry"},
        {"model_key": "b", "kind": "data_staleness", "status": "breach", "count": 1, "label": "FX momentum"},
    ]
    return charts.figure(widget, rows, ["/a", "/b", "/c"])


def test_a_heatmap_on_a_phone_stands_its_headers_on_end_and_says_short_words_a_line_each():
    figure = _states_heatmap()
    trace, layout = figure["data"][0], figure["layout"]
    narrow = layout["meta"]["narrow"]
    assert narrow["below"] >= charts.NARROW_BELOW
    # A desktop: whole words, headers as plotly sets them (side by side where they fit).
    assert trace["text"] == [["Insufficient data", "No result", ""], ["", "", "Breach"]]
    assert "tickangle" not in layout["xaxis"]
    # A phone: the headers on end (tilted, they ran into each other), short words a line each in a smaller font, the
    # rows taller for two lines and the chart taller by the headers' height.
    assert narrow["layout"]["xaxis.tickangle"] == -90
    assert narrow["layout"]["height"] > layout["height"]
    assert narrow["traces"] == [
        {"text": [["Insuf.<br>data", "No<br>result", ""], ["", "", "Breach"]], "textfont.size": charts.NARROW_CELL_FONT}
    ]
    assert charts.NARROW_CELL_FONT < trace["textfont"]["size"]
    shown = {
        word for line in trace["text"] + narrow["traces"][0]["text"] for said in line for word in said.split("<br>")
    }
    assert "None" not in shown and all(
        len(word) <= 6 for line in narrow["traces"][0]["text"] for said in line for word in said.split("<br>")
    )


def test_a_heatmap_says_what_a_blank_cell_means():
    description = widgets.get("monitoring-heatmap").description
    assert "A blank cell: the model has no monitor of that kind." in description
    assert "No result: a monitor not yet evaluated" in description


def test_a_heatmap_of_long_names_is_narrow_until_its_whole_words_fit():
    widget = widgets.get("monitoring-heatmap")
    kinds = ["performance", "drift", "trading", "sudden_change", "data_staleness"]
    rows = [
        {"model_key": "m", "kind": kind, "status": "insufficient", "count": 1, "label": "Commodity term-structure roll"}
        for kind in kinds
    ]
    below = charts.figure(widget, rows, ["/x"] * len(rows))["layout"]["meta"]["narrow"]["below"]
    # Five columns of "Insufficient data" beside a 29-character name need more than the least.
    assert below > charts.NARROW_BELOW


HBARS = [w for w in widgets.all_widgets() if w.chart == "hbar"]


@pytest.mark.parametrize("widget", HBARS, ids=lambda w: w.key)
def test_a_horizontal_chart_wraps_its_row_labels_on_a_phone(widget):
    first = widget.dimensions[0]
    values = list(first.values) or ["a long row label that a phone cannot hold on one line", "b"]
    rows = [{first.field: value, "count": 1, widget.chart_value: 1} for value in values]
    if len(widget.dimensions) > 1:
        second = widget.dimensions[1]
        rows = [row | {second.field: second.values[0] if second.values else "x"} for row in rows]
    figure = charts.figure(widget, rows, ["/x"] * len(rows))
    layout = figure["layout"]
    narrow = layout["meta"]["narrow"]
    whole = [first.display(value) for value in values]
    assert layout["yaxis"]["tickvals"] == whole == layout["yaxis"]["ticktext"]  # a desktop: whole
    lines = narrow["layout"]["yaxis.ticktext"]
    assert len(lines) == len(whole)
    for label, wrapped in zip(whole, lines, strict=True):
        parts = wrapped.split("<br>")
        assert len(parts) <= 2 and all(len(part) <= charts.NARROW_WRAP + 4 for part in parts)
        assert wrapped.replace("<br>", " ") == label or wrapped.endswith("…")
    assert narrow["layout"]["margin.l"] == 0  # the labels' own width, not a desktop's 160 pixels
    assert narrow["below"] > 340  # a 390-pixel phone's chart (its card less its padding) is narrow
    if any("<br>" in line for line in lines):
        assert narrow["layout"]["height"] >= 40 * len(lines)  # room for two lines a row


def test_a_row_label_takes_a_few_more_characters_a_line_rather_than_be_cut():
    assert charts.two_lines("Blocked: stopped by the kill switch", 16) == "Blocked: stopped<br>by the kill switch"
    assert charts.two_lines("Pilot ended", 16) == "Pilot ended"
    cut = charts.two_lines("a label far longer than two lines of sixteen characters hold", 16)
    assert cut == "a label far longer<br>than two lines of s…" and all(len(line) <= 20 for line in cut.split("<br>"))


def test_the_gate_blocks_say_the_reason_alone():
    widget = widgets.get("gate-blocks")
    rows = [{"gate": "kill_switch", "count": 1}, {"gate": "not_approved", "count": 2}]
    figure = charts.figure(widget, rows, ["/a", "/b"])
    assert figure["layout"]["yaxis"]["ticktext"] == ["Stopped by the kill switch", "Not approved for use"]
    assert figure["layout"]["meta"]["narrow"]["layout"]["yaxis.ticktext"] == [
        "Stopped by the<br>kill switch",
        "Not approved for<br>use",
    ]
    # Beside "Allowed" the answer says it blocks (a desk's models at the gate).
    assert widgets.get("my-desk-models").dimensions[0].display("kill_switch") == "Blocked: stopped by the kill switch"

"""The server-side SVG chart helper: accessible, escaped, values written beside the marks."""

from __future__ import annotations

import re
from xml.etree import ElementTree

from consentoffice.home import charts

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ElementTree.Element:
    return ElementTree.fromstring(str(svg))


def test_a_bar_chart_is_an_image_named_by_its_title_and_description():
    svg = parse(
        charts.bar_chart(
            chart_id="c1",
            title="受付件数",
            desc="週ごと",
            labels=["11/16"],
            series=[charts.Series("受付", [4])],
        )
    )
    assert svg.get("role") == "img"
    assert svg.get("aria-labelledby") == "c1-title c1-desc"
    assert svg.find(f"{SVG}title").text == "受付件数"
    assert svg.find(f"{SVG}desc").text == "週ごと"


def test_every_bar_carries_its_value_as_text_and_a_tooltip():
    svg = parse(
        charts.bar_chart(
            chart_id="c",
            title="t",
            labels=["11/16", "11/23"],
            series=[charts.Series("受付", [4, 8]), charts.Series("完了", [2, 0])],
        )
    )
    bars = [r for r in svg.iter(f"{SVG}rect") if r.find(f"{SVG}title") is not None]
    assert [b.find(f"{SVG}title").text for b in bars] == [
        "11/16 受付 4",
        "11/16 完了 2",
        "11/23 受付 8",
        "11/23 完了 0",
    ]
    values = [t.text for t in svg.iter(f"{SVG}text") if t.get("class") == "chart-value"]
    assert values == ["4", "2", "8", "0"]
    heights = [float(b.get("height")) for b in bars]
    assert heights[2] == 2 * heights[0] and heights[3] == 0


def test_labels_are_escaped():
    svg = str(
        charts.bar_chart(chart_id="c", title="<script>", labels=["a&b"], series=[charts.Series("<x>", [1])])
    )
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert "a&amp;b" in svg and "&lt;x&gt;" in svg
    parse(svg)


def test_a_line_chart_leaves_a_gap_where_there_is_no_value():
    svg = parse(
        charts.line_chart(chart_id="l", title="率", labels=["a", "b", "c", "d"], values=[50, 100, None, 80])
    )
    lines = list(svg.iter(f"{SVG}polyline"))
    assert len(lines) == 1 and len(lines[0].get("points").split()) == 2
    assert [t.text for t in svg.iter(f"{SVG}text") if t.get("class") == "chart-value"] == [
        "50%",
        "100%",
        "80%",
    ]


def test_a_donut_shows_the_share_in_its_middle():
    svg = str(
        charts.donut(chart_id="d", title="期限内", part=3, total=4, part_label="期限内", rest_label="超過")
    )
    assert re.search(r'class="chart-center"[^>]*>75%</text>', svg)
    parse(svg)


def test_a_donut_without_any_total_shows_a_dash_not_a_division_error():
    svg = str(charts.donut(chart_id="d", title="t", part=0, total=0, part_label="a", rest_label="b"))
    assert ">—</text>" in svg


def test_crowded_axis_labels_are_thinned_from_the_newest_but_every_point_keeps_its_title():
    labels = [f"w{i}" for i in range(12)]
    svg = parse(charts.line_chart(chart_id="l", title="t", labels=labels, values=[50] * 12, width=460))
    shown = [t.text for t in svg.iter(f"{SVG}text") if t.get("class") == "chart-label"]
    assert shown == ["w1", "w3", "w5", "w7", "w9", "w11"]
    assert len([c for c in svg.iter(f"{SVG}circle") if c.find(f"{SVG}title") is not None]) == 12

"""The server-rendered SVG chart (community.core.charts + _macros/charts.html)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from community.core.charts import Datum, line_chart, render_line_chart

SVG = "{http://www.w3.org/2000/svg}"


def _data():
    return [
        Datum("01", 3, "2025-01: 3 stars"),
        Datum("02", 4, "2025-02: 4 stars"),
        Datum("03", None),
        Datum("04", 5, "2025-04: <5> & stars"),
    ]


def test_points_are_scaled_into_the_view_box():
    chart = line_chart(_data(), title="Stars", y_min=0, y_max=5)
    assert len(chart.points) == 3
    assert [p.value for p in chart.points] == [3, 4, 5]
    for p in chart.points:
        assert chart.left <= p.x <= chart.right
        assert chart.top <= p.y <= chart.bottom
    top = chart.points[-1]
    assert top.y == pytest.approx(chart.top)  # the maximum sits on the top edge
    xs = [t.pos for t in chart.x_ticks]
    assert len(xs) == 4 and xs == sorted(xs)


def test_a_gap_breaks_the_line():
    chart = line_chart(_data(), title="Stars", y_min=0, y_max=5)
    assert len(chart.paths) == 1  # 01-02 joined; 04 stands alone after the gap
    assert len(chart.paths[0].split()) == 2


def test_step_lines_go_across_then_up():
    chart = line_chart(_data()[:2], title="Stars", y_min=0, y_max=5, step=True)
    (path,) = chart.paths
    coords = [tuple(map(float, c.split(","))) for c in path.split()]
    assert len(coords) == 3
    assert coords[1][0] == coords[2][0] and coords[1][1] == coords[0][1]


def test_values_outside_the_range_are_clamped():
    chart = line_chart([Datum("a", -3), Datum("b", 99)], title="t", y_min=0, y_max=5)
    assert chart.points[0].y == pytest.approx(chart.bottom)
    assert chart.points[1].y == pytest.approx(chart.top)


def test_empty_range_is_refused():
    with pytest.raises(ValueError):
        line_chart([], title="t", y_min=1, y_max=1)


def test_rendered_svg_is_valid_with_title_points_and_escaped_labels(app_ctx):
    chart = line_chart(
        _data(),
        title='Stars of "A" <site>',
        description="3 months",
        y_min=0,
        y_max=5,
        y_ticks=(1, 2, 3, 4, 5),
    )
    markup = str(render_line_chart(chart, "c1"))
    root = ET.fromstring(markup)  # well-formed XML
    assert root.tag == f"{SVG}svg"
    assert root.get("viewBox") == "0 0 320 150"
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "c1-title c1-desc"
    assert root.find(f"{SVG}title").text == 'Stars of "A" <site>'
    circles = root.findall(f".//{SVG}circle")
    assert len(circles) == 3
    assert circles[-1].find(f"{SVG}title").text == "2025-04: <5> & stars"
    assert "&lt;5&gt; &amp; stars" in markup
    assert len(root.findall(f".//{SVG}polyline")) == 1
    assert "style=" not in markup
    assert "<script" not in markup


def test_chart_without_values_has_no_points(app_ctx):
    chart = line_chart([Datum("01", None), Datum("02", None)], title="t", y_min=0, y_max=5)
    root = ET.fromstring(str(render_line_chart(chart, "c2")))
    assert root.findall(f".//{SVG}circle") == []
    assert root.findall(f".//{SVG}polyline") == []

"""Bar chart geometry (core.charts.bar_chart): stacked slots, round y axis, totals."""

from __future__ import annotations

from community.core.charts import bar_chart, nice_ceiling


def test_nice_ceiling_rounds_up_to_1_2_5():
    assert [nice_ceiling(v) for v in (0, 1, 3, 7, 10, 11, 180, 501)] == [
        1,
        1,
        5,
        10,
        10,
        20,
        200,
        1000,
    ]


def test_stacked_bars_scale_to_the_largest_total():
    chart = bar_chart(["09", "10"], [[1, 3], [1, 0]], title="t", series_labels=["Timely", "Late"])
    span = chart.bottom - chart.top
    assert [t.text for t in chart.totals] == ["2", "3"]
    # y axis 0..5; the September slot stacks 1 timely under 1 late.
    timely, late, october = chart.bars
    assert timely.height == round(span / 5, 1) and late.height == round(span / 5, 1)
    assert late.y + late.height == timely.y
    assert october.height == round(3 * span / 5, 1)
    assert [b.label for b in chart.bars] == ["09 Timely: 1", "09 Late: 1", "10 Timely: 3"]
    assert [e.label for e in chart.legend] == ["Timely", "Late"]
    assert [t.label for t in chart.y_ticks] == ["0", "2.5", "5"]


def test_empty_slots_draw_no_bar_but_a_zero_total():
    chart = bar_chart(["a", "b"], [[0, 0]], title="t")
    assert chart.bars == []
    assert [t.text for t in chart.totals] == ["0", "0"]
    assert chart.legend == []

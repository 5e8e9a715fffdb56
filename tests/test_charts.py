"""charts.py: a series' points become SVG path data inside the box, gaps kept, quiet periods at zero."""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, strategies as st

from dashboard.questions import charts
from dashboard.store.table_records import WINDOWS, CapacityMetrics, MetricPoint, MetricSeries

START = datetime(2024, 1, 1, tzinfo=UTC)


def coordinates(path: str) -> list[tuple[float, float]]:
    return [(float(x), float(y)) for x, y in re.findall(r"[ML](-?[\d.]+) (-?[\d.]+)", path)]


def test_periods_cloudwatch_left_out_are_zero_for_counts_and_gaps_for_levels():
    points = [MetricPoint(START + timedelta(minutes=1), 4.0), MetricPoint(START + timedelta(minutes=3), 2.0)]
    assert charts.slot_values(points, START, 60, 5, gaps_are_zero=True) == [0.0, 4.0, 0.0, 2.0, 0.0]
    assert charts.slot_values(points, START, 60, 5, gaps_are_zero=False) == [None, 4.0, None, 2.0, None]


def test_points_outside_the_window_are_left_out():
    points = [MetricPoint(START - timedelta(minutes=1), 9.0), MetricPoint(START + timedelta(minutes=5), 9.0)]
    assert charts.slot_values(points, START, 60, 5, gaps_are_zero=True) == [0.0] * 5


def test_the_peak_touches_the_top_and_zero_the_bottom():
    chart = charts.sparkline([0.0, 10.0, 5.0], width=100, height=50)
    assert chart.line == "M0 48 L50 2 L100 25"


def test_a_gap_starts_a_new_line_and_a_lone_value_is_a_dot():
    chart = charts.sparkline([1.0, 1.0, None, 2.0, None], width=40, height=10)
    assert chart.line == "M0 5 L10 5 M30 2 h0"


def test_all_zero_is_a_flat_line_along_the_bottom_not_an_error():
    chart = charts.sparkline([0.0, 0.0, 0.0], width=10, height=10)
    assert coordinates(chart.line) == [(0, 8), (5, 8), (10, 8)]


def test_nothing_reported_draws_nothing():
    assert charts.sparkline([None, None]).line == ""


def test_the_area_closes_the_line_down_to_zero_for_counts_only():
    filled = charts.sparkline([1.0, 3.0], width=10, height=10, filled=True)
    assert filled.area == f"{filled.line} L10 8 L0 8 Z"
    assert charts.sparkline([1.0, None, 3.0], width=10, height=10, filled=True).area == ""


@given(st.lists(st.one_of(st.none(), st.floats(min_value=0, max_value=1e12)), min_size=1, max_size=300))
def test_every_point_stays_inside_the_box(values):
    chart = charts.sparkline(values, width=240, height=48)
    for x, y in coordinates(chart.line):
        assert 0 <= x <= 240 and charts.PAD - 0.05 <= y <= 48 - charts.PAD + 0.05
    assert len(coordinates(chart.line)) == sum(value is not None for value in values)


def test_a_series_is_drawn_over_its_whole_window():
    window = WINDOWS["1h"]
    series = MetricSeries("ConsumedReadCapacityUnits", "ConsumedReadCapacityUnits", "Consumed read capacity", "RCU",
                          "Sum", True, False, [MetricPoint(START + timedelta(minutes=59), 6.0)])
    metrics = CapacityMetrics(window, START, START + window.span, [series])
    chart = charts.for_series(series, metrics)
    assert len(coordinates(chart.line)) == 60 and coordinates(chart.line)[-1] == (240, charts.PAD)
    empty = MetricSeries("ReadThrottleEvents", "ReadThrottleEvents", "Read throttle events", "events", "Sum",
                         True, True, [])
    assert charts.for_series(empty, metrics).line == ""


def test_bars_share_the_width_the_peak_touches_the_top_and_one_event_stays_visible():
    shapes = charts.bars([0, 200, 1], width=300, height=50)
    assert [float(shape.x) for shape in shapes] == [pytest.approx(x, abs=0.1) for x in (7.5, 107.5, 207.5)]
    assert {shape.width for shape in shapes} == {"85"}
    assert [shape.height for shape in shapes] == ["0", "48", "3"]
    assert [shape.y for shape in shapes] == ["50", "2", "47"]
    assert charts.bars([]) == [] and {shape.column_height for shape in shapes} == {"50"}

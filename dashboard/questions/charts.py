"""Sparklines drawn on the server: a metric series -> SVG path data in a fixed box; pure functions."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from dashboard.store.table_records import CapacityMetrics, MetricPoint, MetricSeries

WIDTH = 240
HEIGHT = 48
# A timeline's box: wide and short, stretched to the page's width; a bar of one event stays visible.
BARS_WIDTH = 720
BARS_HEIGHT = 96
MIN_BAR_HEIGHT = 3.0
# Room for the stroke above the peak and below zero.
PAD = 2.0


@dataclass(frozen=True)
class Sparkline:
    width: int
    height: int
    line: str  # SVG path data of the curve; "" when nothing was reported
    area: str  # the curve closed down to zero, for series that add up; "" otherwise


@dataclass(frozen=True)
class Bar:
    """One bar's rectangle in the chart's box (SVG numbers), and the full-height column that a click on it hits."""

    x: str
    width: str
    y: str
    height: str
    column_height: str


def slot_values(points: Sequence[MetricPoint], start: datetime, period: int, slots: int,
                gaps_are_zero: bool) -> list[float | None]:
    """One value per period of the window, oldest first: a period CloudWatch left out is 0 or a gap (None)."""
    values: list[float | None] = [0.0 if gaps_are_zero else None] * slots
    for point in points:
        slot = int((point.at - start).total_seconds() // period)
        if 0 <= slot < slots:
            values[slot] = point.value
    return values


def _number(value: float) -> str:
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def sparkline(values: Sequence[float | None], width: int = WIDTH, height: int = HEIGHT,
              filled: bool = False) -> Sparkline:
    """Path data for values spread evenly across `width`, scaled so that the peak touches the top.

    A None breaks the line (a new subpath); an isolated value is a zero-length segment, which a round
    line cap draws as a dot. All zeros are a flat line along the bottom.
    """
    present = [value for value in values if value is not None]
    if not present:
        return Sparkline(width, height, "", "")
    top = max(max(present), 0.0) or 1.0
    step = width / (len(values) - 1) if len(values) > 1 else 0.0
    base = height - PAD

    def x(slot: int) -> str:
        return _number(slot * step)

    def y(value: float) -> str:
        return _number(base - max(value, 0.0) / top * (height - 2 * PAD))

    commands: list[str] = []
    drawing = False
    for slot, value in enumerate(values):
        if value is None:
            drawing = False
            continue
        commands.append(f"{'L' if drawing else 'M'}{x(slot)} {y(value)}")
        next_missing = slot + 1 >= len(values) or values[slot + 1] is None
        if not drawing and next_missing:
            commands.append("h0")
        drawing = True
    line = " ".join(commands)
    area = ""
    if filled and all(value is not None for value in values):
        area = f"{line} L{x(len(values) - 1)} {_number(base)} L0 {_number(base)} Z"
    return Sparkline(width, height, line, area)


def for_series(series: MetricSeries, metrics: CapacityMetrics) -> Sparkline:
    """The sparkline of one series over its window: counts fill their quiet periods with zero, levels leave gaps.

    A series CloudWatch reported nothing for has no line at all: the page says so in words instead.
    """
    if not series.points:
        return Sparkline(WIDTH, HEIGHT, "", "")
    slots = int(metrics.window.span.total_seconds() // metrics.window.period)
    values = slot_values(series.points, metrics.start, metrics.window.period, slots, series.cumulative)
    return sparkline(values, filled=series.cumulative)


def bars(values: Sequence[int], width: int = BARS_WIDTH, height: int = BARS_HEIGHT) -> list[Bar]:
    """One bar per value, side by side across `width`, the peak touching the top (PAD below it).

    Any value above zero is at least MIN_BAR_HEIGHT tall, so a single event is never invisible next to a burst.
    """
    top = max(max(values, default=0), 0) or 1
    step = width / len(values) if values else 0.0
    gap = step * 0.15 if step >= 3 else 0.0
    shapes = []
    for slot, value in enumerate(values):
        tall = 0.0 if value <= 0 else max(MIN_BAR_HEIGHT, value / top * (height - PAD))
        shapes.append(Bar(_number(slot * step + gap / 2), _number(step - gap), _number(height - tall), _number(tall),
                          _number(height)))
    return shapes

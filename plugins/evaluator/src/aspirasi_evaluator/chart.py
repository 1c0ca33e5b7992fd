"""Geometry of the trend chart (submitted vs closed per period), drawn by the
template ``evaluator/_chart.html`` as inline SVG: no script, no external file."""

from __future__ import annotations

import attrs

from .report import Trend

WIDTH = 720
HEIGHT = 260
LEFT = 44
RIGHT = 12
TOP = 12
BOTTOM = 40


@attrs.frozen
class Bar:
    x: float
    y: float
    width: float
    height: float
    value: int


@attrs.frozen
class Group:
    label: str
    label_x: float
    submitted: Bar
    closed: Bar


@attrs.frozen
class Tick:
    y: float
    value: int


@attrs.frozen
class Chart:
    width: int
    height: int
    left: int
    bottom_y: float
    right_x: float
    groups: tuple[Group, ...]
    ticks: tuple[Tick, ...]
    #: Show only every ``label_step``-th period label (they would overlap).
    label_step: int


def _nice_max(peak: int) -> int:
    if peak <= 4:
        return 4
    magnitude = 1
    while magnitude * 10 <= peak:
        magnitude *= 10
    for step in (1, 2, 2.5, 5, 10):
        top = int(step * magnitude)
        if top >= peak and top % 4 == 0:
            return top
    return ((peak + 3) // 4) * 4


def layout(trend: Trend, labels: list[str]) -> Chart:
    """Bars scaled to a round maximum, two per period, with 5 horizontal ticks."""
    top_value = _nice_max(trend.peak)
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    bottom = TOP + plot_h
    n = max(1, len(trend.points))
    slot = plot_w / n
    bar_w = max(1.0, slot * 0.38)

    def bar(x: float, value: int) -> Bar:
        h = plot_h * value / top_value
        return Bar(round(x, 2), round(bottom - h, 2), round(bar_w, 2), round(h, 2), value)

    groups = []
    for i, point in enumerate(trend.points):
        x0 = LEFT + i * slot + slot * 0.1
        groups.append(
            Group(
                label=labels[i],
                label_x=round(LEFT + i * slot + slot / 2, 2),
                submitted=bar(x0, point.submitted),
                closed=bar(x0 + bar_w, point.closed),
            )
        )
    ticks = tuple(Tick(round(bottom - plot_h * k / 4, 2), top_value * k // 4) for k in range(5))
    return Chart(
        width=WIDTH,
        height=HEIGHT,
        left=LEFT,
        bottom_y=bottom,
        right_x=WIDTH - RIGHT,
        groups=tuple(groups),
        ticks=ticks,
        label_step=max(1, -(-n // 12)),
    )

"""
Bar charts over time as inline SVG, drawn on the server: they show without
script, print, and stay in the page's colours (bars and text use
currentColor, so light and dark schemes both keep their contrast).

Pure functions: counts per time bucket in, an SVG string out, every piece of
text escaped. The SVG is an image to screen readers (role="img" with a title
and description); the page puts a table of the same numbers beside it.
Several series stack, bottom first (approved, held, rejected in the admin).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from html import escape

Point = tuple[datetime, int]


@dataclass(frozen=True)
class Series:
    label: str
    points: Sequence[Point]
    css_class: str = ""


@dataclass(frozen=True)
class Marker:
    """A moment worth a vertical line: a launch, a delivery."""

    at: datetime
    label: str


@dataclass(frozen=True)
class Band:
    """A stretch of time worth shading: the founding phase."""

    start: datetime
    end: datetime
    label: str


@dataclass(frozen=True)
class Frame:
    width: int = 720
    height: int = 260
    left: int = 52
    right: int = 12
    # Two rows above the plot: marker labels, then the bands' brackets and labels.
    top: int = 46
    bottom: int = 30

    @property
    def plot_width(self) -> int:
        return self.width - self.left - self.right

    @property
    def plot_height(self) -> int:
        return self.height - self.top - self.bottom


@dataclass(frozen=True)
class _Scale:
    start: datetime
    end: datetime
    top_value: int
    frame: Frame = field(default_factory=Frame)

    def x(self, moment: datetime) -> float:
        span = (self.end - self.start).total_seconds() or 1
        offset = (moment - self.start).total_seconds()
        return self.frame.left + self.frame.plot_width * min(max(offset / span, 0), 1)

    def y(self, value: float) -> float:
        return self.frame.top + self.frame.plot_height * (1 - value / self.top_value)


def nice_ceiling(value: int) -> int:
    """The smallest of 1, 2 or 5 times a power of ten at or above value: round numbers on the axis."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor >= value:
                return step * factor
        step *= 10


def tick_count(top_value: int) -> int:
    """Gridlines that land on whole, round numbers for a top of 1, 2 or 5 times a power of ten."""
    if top_value <= 5:
        return top_value
    return 4 if str(top_value)[0] == "2" else 5


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _totals(series: Sequence[Series]) -> dict[datetime, int]:
    totals: dict[datetime, int] = {}
    for one in series:
        for moment, value in one.points:
            totals[moment] = totals.get(moment, 0) + value
    return totals


def bar_chart_svg(
    *,
    series: Sequence[Series],
    bucket: timedelta,
    title: str,
    description: str,
    tick_label: Callable[[datetime], str] = lambda moment: moment.date().isoformat(),
    markers: Sequence[Marker] = (),
    bands: Sequence[Band] = (),
    frame: Frame | None = None,
    id_prefix: str = "chart",
) -> str:
    """An SVG bar chart of counts per `bucket` (each point's datetime is its bucket's start)."""
    frame = frame or Frame()
    totals = _totals(series)
    ids = {"title": escape(f"{id_prefix}-title"), "desc": escape(f"{id_prefix}-desc")}
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 {frame.width} {frame.height}"'
        f' aria-labelledby="{ids["title"]} {ids["desc"]}">',
        f'<title id="{ids["title"]}">{escape(title)}</title>',
        f'<desc id="{ids["desc"]}">{escape(description)}</desc>',
    ]
    if not totals:
        parts.append("</svg>")
        return "".join(parts)
    scale = _Scale(min(totals), max(totals) + bucket, nice_ceiling(max(*totals.values(), 1)), frame)
    parts += _bands(scale, bands)
    parts += _axes(scale, tick_label)
    parts += _bars(scale, series, bucket)
    parts += _markers(scale, markers)
    parts.append("</svg>")
    return "".join(parts)


def _bands(scale: _Scale, bands: Sequence[Band]) -> list[str]:
    out = []
    for band in bands:
        if band.end <= scale.start or band.start >= scale.end:
            continue
        x0, x1 = scale.x(band.start), scale.x(band.end)
        bracket = scale.frame.top - 6
        # The label sits above the plot with a bracket over the stretch, where no bar can cover it.
        out.append(
            f'<g class="chart-band" fill="currentColor"><rect x="{_num(x0)}" y="{scale.frame.top}"'
            f' width="{_num(max(x1 - x0, 1))}" height="{scale.frame.plot_height}" fill-opacity="0.08"/>'
            f'<path d="M{_num(x0)} {bracket + 4}V{bracket}H{_num(x1)}V{bracket + 4}" fill="none"'
            f' stroke="currentColor"/>'
            f'<text x="{_num(x0)}" y="{bracket - 4}" font-size="11">{escape(band.label)}</text></g>'
        )
    return out


def _axes(scale: _Scale, tick_label: Callable[[datetime], str]) -> list[str]:
    frame = scale.frame
    baseline = frame.top + frame.plot_height
    out = ['<g class="chart-axes" fill="currentColor" font-size="11">']
    ticks = tick_count(scale.top_value)
    for step in range(ticks + 1):
        value = scale.top_value * step / ticks
        y = scale.y(value)
        out.append(
            f'<line x1="{frame.left}" x2="{frame.width - frame.right}" y1="{_num(y)}" y2="{_num(y)}"'
            f' stroke="currentColor" stroke-opacity="{0.6 if step == 0 else 0.15}"/>'
            f'<text x="{frame.left - 6}" y="{_num(y + 4)}" text-anchor="end">{_num(value)}</text>'
        )
    out.append(f'<text x="{frame.left}" y="{baseline + 18}">{escape(tick_label(scale.start))}</text>')
    out.append(
        f'<text x="{frame.width - frame.right}" y="{baseline + 18}" text-anchor="end">'
        f"{escape(tick_label(scale.end))}</text>"
    )
    out.append("</g>")
    return out


def _bars(scale: _Scale, series: Sequence[Series], bucket: timedelta) -> list[str]:
    stacked: dict[datetime, int] = {}
    out = []
    for one in series:
        css = escape(" ".join(filter(None, ("chart-bars", one.css_class))))
        out.append(f'<g class="{css}" fill="currentColor"><title>{escape(one.label)}</title>')
        for moment, value in one.points:
            if value <= 0:
                continue
            below = stacked.get(moment, 0)
            stacked[moment] = below + value
            x0, x1 = scale.x(moment), scale.x(moment + bucket)
            gap = min(1.0, (x1 - x0) / 4)
            y_top = scale.y(below + value)
            out.append(
                f'<rect x="{_num(x0 + gap)}" y="{_num(y_top)}" width="{_num(max(x1 - x0 - 2 * gap, 0.5))}"'
                f' height="{_num(scale.y(below) - y_top)}"/>'
            )
        out.append("</g>")
    return out


def _markers(scale: _Scale, markers: Sequence[Marker]) -> list[str]:
    frame = scale.frame
    out = []
    for marker in markers:
        if not scale.start <= marker.at <= scale.end:
            continue
        x = scale.x(marker.at)
        anchor = "end" if x > frame.left + frame.plot_width / 2 else "start"
        out.append(
            f'<g class="chart-marker" fill="currentColor" font-size="11">'
            f'<line x1="{_num(x)}" x2="{_num(x)}" y1="{frame.top - 30}" y2="{frame.top + frame.plot_height}"'
            f' stroke="currentColor" stroke-dasharray="4 3"/>'
            f'<text x="{_num(x + (-4 if anchor == "end" else 4))}" y="{frame.top - 34}" text-anchor="{anchor}">'
            f"{escape(marker.label)}</text></g>"
        )
    return out

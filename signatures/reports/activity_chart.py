"""
Signatures over time for the letter overview in the admin: per day and per
hour, split into approved, held, rejected and the rest, drawn as a stacked
bar chart in server-rendered SVG (no script, nothing the CSP must allow)
with the same numbers in a table beside it for screen readers and for
anyone who wants the figures. Small and self-contained on purpose; the
public side's charts may later share one module with it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Count
from django.db.models.functions import TruncDate, TruncHour
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from signatures.models import Letter, Signature

State = Signature.State
SERIES = (
    ("approved", _("approved")),
    ("held", _("held")),
    ("rejected", _("rejected")),
    ("other", _("awaiting or withdrawn")),
)
WIDTH, HEIGHT, TOP, BOTTOM, LEFT = 480, 160, 12, 22, 30


def series_of(state: str, hold_reason: str) -> str:
    if state == State.APPROVED:
        return "approved"
    if state == State.REJECTED:
        return "rejected"
    if state == State.CONFIRMED and hold_reason:
        return "held"
    return "other"


@dataclass
class Bar:
    label: str
    moment: date | datetime
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def cells(self) -> list[int]:
        return [self.counts.get(key, 0) for key, _label in SERIES]


@dataclass
class ActivityChart:
    title: str
    bars: list[Bar]

    @property
    def series(self) -> tuple[tuple[str, Any], ...]:
        return SERIES

    @property
    def svg(self) -> SafeString:
        return draw(self)


def grouped(letter: Letter, since: datetime, trunc) -> dict:
    rows = (
        Signature.objects.filter(letter=letter, created_at__gte=since)
        .order_by()
        .annotate(slot=trunc("created_at"))
        .values_list("slot", "state", "hold_reason")
        .annotate(n=Count("*"))
    )
    counts: dict = defaultdict(lambda: defaultdict(int))
    for slot, state, hold_reason, n in rows:
        counts[slot][series_of(state, hold_reason)] += n
    return counts


def per_day(letter: Letter, *, days: int = 14) -> ActivityChart:
    today = timezone.localdate()
    first = today - timedelta(days=days - 1)
    since = timezone.make_aware(datetime.combine(first, datetime.min.time()))
    counts = grouped(letter, since, TruncDate)
    bars = []
    for i in range(days):
        day = first + timedelta(days=i)
        bars.append(Bar(date_format(day, "j M"), day, dict(counts.get(day, {}))))
    return ActivityChart(str(_("Signatures per day (last 14 days)")), bars)


def per_hour(letter: Letter, *, hours: int = 24) -> ActivityChart:
    now = timezone.localtime().replace(minute=0, second=0, microsecond=0)
    first = now - timedelta(hours=hours - 1)
    counts = {timezone.localtime(slot): value for slot, value in grouped(letter, first, TruncHour).items()}
    bars = []
    for i in range(hours):
        hour = first + timedelta(hours=i)
        bars.append(Bar(date_format(hour, "H:00"), hour, dict(counts.get(hour, {}))))
    return ActivityChart(str(_("Signatures per hour (last 24 hours)")), bars)


def draw(chart: ActivityChart) -> SafeString:
    """Stacked bars, one per slot, with a scale on the left and every few labels underneath."""
    peak = max((bar.total for bar in chart.bars), default=0) or 1
    plot_height = HEIGHT - TOP - BOTTOM
    step = (WIDTH - LEFT) / max(len(chart.bars), 1)
    label_every = max(1, len(chart.bars) // 7)
    shapes = []
    for i, bar in enumerate(chart.bars):
        x = LEFT + i * step + 1
        y: float = HEIGHT - BOTTOM
        for (key, _label), n in zip(SERIES, bar.cells(), strict=True):
            if not n:
                continue
            h = n / peak * plot_height
            y -= h
            shapes.append(
                format_html(
                    '<rect class="bar-{}" x="{}" y="{}" width="{}" height="{}"></rect>',
                    key,
                    f"{x:.1f}",
                    f"{y:.1f}",
                    f"{max(step - 2, 1):.1f}",
                    f"{h:.1f}",
                )
            )
        if i % label_every == 0:
            shapes.append(
                format_html('<text x="{}" y="{}">{}</text>', f"{x:.1f}", HEIGHT - 6, bar.label),
            )
    axis = format_html(
        '<line class="axis" x1="{}" y1="{}" x2="{}" y2="{}"></line>'
        '<text x="0" y="{}">{}</text><text x="0" y="{}">0</text>',
        LEFT,
        HEIGHT - BOTTOM,
        WIDTH,
        HEIGHT - BOTTOM,
        TOP + 8,
        peak,
        HEIGHT - BOTTOM,
    )
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {} {}" width="{}" height="{}" role="img"'
        ' aria-label="{}">{}{}</svg>',
        WIDTH,
        HEIGHT,
        WIDTH,
        HEIGHT,
        chart.title,
        axis,
        format_html_join("", "{}", ((shape,) for shape in shapes)),
    )

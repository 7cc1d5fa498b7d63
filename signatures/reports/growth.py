"""
How a letter's public count grew: approved signatures per hour and per day,
from one aggregate query, with the moments that explain the curve (founding
phase, launch, delivery) for the transparency page's chart.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count
from django.db.models.functions import Coalesce, TruncHour
from django.utils import timezone
from django.utils.translation import gettext as _

from signatures.models import Letter, Signature
from signatures.reports.charts import Band, Marker, Point

# The viral hours are in the first days; after that a day is fine-grained enough.
HOURLY_DAYS = 3
DAY = timedelta(days=1)
HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class Growth:
    per_day: list[Point]  # every day from the first approval to the last, zeros included
    per_hour: list[Point]  # every hour of the first HOURLY_DAYS days
    markers: list[Marker]
    bands: list[Band]

    @property
    def total(self) -> int:
        return sum(value for _day, value in self.per_day)


def _hourly_counts(letter: Letter) -> dict[datetime, int]:
    # A signature counts from its approval; older rows approved by hand before
    # approved_at existed fall back to their confirmation.
    rows = (
        Signature.objects.public()
        .filter(letter=letter)
        .annotate(hour=TruncHour(Coalesce("approved_at", "confirmed_at")))
        .exclude(hour=None)
        .values("hour")
        .annotate(count=Count("pk"))
        .order_by("hour")
    )
    return {timezone.localtime(row["hour"]): row["count"] for row in rows}


def _filled(counts: dict[datetime, int], start: datetime, end: datetime, step: timedelta) -> list[Point]:
    points = []
    moment = start
    while moment <= end:
        points.append((moment, counts.get(moment, 0)))
        moment += step
    return points


def _moments(letter: Letter, start: datetime) -> tuple[list[Marker], list[Band]]:
    markers, bands = [], []
    launched_at = letter.launch_at or letter.opens_at
    if letter.launch_at is not None and start < letter.launch_at:
        bands.append(Band(start=start, end=letter.launch_at, label=_("Founding phase")))
    if launched_at is not None:
        markers.append(Marker(at=launched_at, label=_("Launch")))
    if letter.delivered_at is not None:
        markers.append(Marker(at=letter.delivered_at, label=_("Delivered")))
    return markers, bands


def growth_of(letter: Letter) -> Growth:
    """Approved signatures per day and, for the first days, per hour: one query."""
    hourly = _hourly_counts(letter)
    if not hourly:
        return Growth(per_day=[], per_hour=[], markers=[], bands=[])
    daily: dict[datetime, int] = {}
    for hour, count in hourly.items():
        day = hour.replace(hour=0)
        daily[day] = daily.get(day, 0) + count
    first_hour, last_hour = min(hourly), max(hourly)
    per_hour = _filled(hourly, first_hour, min(last_hour, first_hour + HOURLY_DAYS * DAY - HOUR), HOUR)
    per_day = _filled(daily, min(daily), max(daily), DAY)
    markers, bands = _moments(letter, per_day[0][0])
    return Growth(per_day=per_day, per_hour=per_hour, markers=markers, bands=bands)

"""
Growth over time on the transparency page: approved signatures per day and,
for the first days, per hour, drawn as an SVG image with the same numbers in
a table, readable without script; launch, founding phase and delivery marked.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import TestCase
from django.urls import reverse

from signatures import services
from signatures.models import Letter, Signature
from signatures.reports.charts import Marker, Series, bar_chart_svg
from signatures.reports.growth import growth_of
from tests.factories import make_letter, make_signature

State = Signature.State
FOUNDED = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
LAUNCH = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def approved_at(letter: Letter, moment: datetime, count: int = 1, **fields) -> None:
    with time_machine.travel(moment, tick=False):
        for _ in range(count):
            make_signature(letter, State.APPROVED, **fields)


class GrowthChartTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.letter = make_letter(status=Letter.Status.FOUNDING, launch_at=LAUNCH)
        approved_at(cls.letter, FOUNDED.replace(hour=10), 2, is_founding=True)
        approved_at(cls.letter, FOUNDED.replace(hour=11), 1, is_founding=True)
        approved_at(cls.letter, datetime(2026, 3, 3, 9, 30, tzinfo=UTC), 3)
        approved_at(cls.letter, datetime(2026, 3, 3, 9, 45, tzinfo=UTC), 1, wants_listing=False)
        with time_machine.travel(datetime(2026, 3, 3, 12, 0, tzinfo=UTC), tick=False):
            make_signature(cls.letter, State.CONFIRMED)  # waiting for a moderator: not counted
            make_signature(cls.letter, State.REJECTED)
            make_signature(make_letter(), State.APPROVED)  # another letter's
        with time_machine.travel(datetime(2026, 3, 3, 18, 0, tzinfo=UTC), tick=False):
            services.record_letter_delivery(
                letter=cls.letter, delivered_at=datetime(2026, 3, 3, 17, 0, tzinfo=UTC), delivered_how="By hand"
            )
        cls.url = reverse("signatures:transparency", kwargs={"slug": cls.letter.slug})

    def page(self) -> str:
        response = self.client.get(self.url)
        assert response.status_code == 200
        return response.content.decode()

    def table_rows(self, html: str) -> dict[str, int]:
        cells = re.findall(r'<th scope="row"><time datetime="([^"]+)">[^<]*</time></th><td>(\d+)</td>', html)
        return {when: int(count) for when, count in cells}

    def test_the_page_tables_approved_signatures_per_day_including_quiet_days(self):
        rows = self.table_rows(self.page())
        assert rows["2026-03-01"] == 3
        assert rows["2026-03-02"] == 0
        assert rows["2026-03-03"] == 4  # listed or not, every approved signature counts

    def test_the_first_days_are_tabled_per_hour(self):
        rows = self.table_rows(self.page())
        assert rows["2026-03-01T10:00:00+00:00"] == 2
        assert rows["2026-03-01T11:00:00+00:00"] == 1
        assert rows["2026-03-03T09:00:00+00:00"] == 4

    def test_only_approved_signatures_of_this_letter_are_counted(self):
        html = self.page()
        assert "7 approved signatures" in html
        assert sum(count for when, count in self.table_rows(html).items() if "T" not in when) == 7

    def test_the_charts_are_images_with_a_title_and_a_description(self):
        html = self.page()
        charts = re.findall(r"<svg[^>]*>.*?</svg>", html, flags=re.S)
        assert len(charts) == 2
        for chart in charts:
            assert 'role="img"' in chart
            labelled_by = re.search(r'aria-labelledby="([^"]+)"', chart).group(1).split()
            assert f'<title id="{labelled_by[0]}">' in chart
            assert f'<desc id="{labelled_by[1]}">' in chart
            assert "<rect" in chart

    def test_the_founding_phase_launch_and_delivery_are_marked(self):
        html = self.page()
        day_chart = re.search(r'<svg[^>]*aria-labelledby="growth-day-title.*?</svg>', html, flags=re.S).group(0)
        for label in ("Founding phase", "Launch", "Delivered"):
            assert label in day_chart
        moments = re.search(r'<ul class="growth-moments">(.*?)</ul>', html, flags=re.S).group(1)
        for label in ("Founding phase", "Launch", "Delivered"):
            assert label in moments

    def test_the_counts_come_from_one_query(self):
        with self.assertNumQueries(1):
            growth = growth_of(self.letter)
        assert growth.total == 7

    def test_the_page_may_be_kept_by_browsers_and_caches_for_a_minute(self):
        response = self.client.get(self.url)
        assert "public" in response["Cache-Control"]
        assert "max-age=60" in response["Cache-Control"]

    def test_a_letter_without_approved_signatures_says_so_and_draws_nothing(self):
        letter = make_letter()
        make_signature(letter, State.CONFIRMED)
        html = self.client.get(reverse("signatures:transparency", kwargs={"slug": letter.slug})).content.decode()
        assert "No signature has been approved yet." in html
        assert "<svg" not in html


class ChartDrawingTests(TestCase):
    def test_text_given_to_the_chart_is_escaped(self):
        day = datetime(2026, 3, 1, tzinfo=UTC)
        svg = bar_chart_svg(
            series=[Series(label="<b>bars</b>", points=[(day, 3)])],
            bucket=timedelta(days=1),
            title='<script>alert("t")</script>',
            description="A & B",
            markers=[Marker(at=day, label="<img src=x onerror=alert(1)>")],
            id_prefix='x" onload="alert(1)',
        )
        for markup in ("<script>", "<img", "<b>"):
            assert markup not in svg
        assert 'onload="' not in svg
        assert "&lt;script&gt;" in svg
        assert "A &amp; B" in svg

    def test_stacked_series_reach_the_total_of_their_bucket(self):
        day = datetime(2026, 3, 1, tzinfo=UTC)
        svg = bar_chart_svg(
            series=[
                Series(label="Approved", points=[(day, 3)]),
                Series(label="Held", points=[(day, 2)], css_class="chart-held"),
            ],
            bucket=timedelta(days=1),
            title="Signatures",
            description="Approved and held",
        )
        heights = [float(h) for h in re.findall(r'<rect x="[^"]+" y="[^"]+" width="[^"]+" height="([^"]+)"', svg)]
        assert len(heights) == 2
        assert heights[0] / heights[1] == pytest.approx(3 / 2)
        assert 'class="chart-bars chart-held"' in svg

"""The letter overview draws signatures per day and per hour, with holds and rejections, and needs no script."""

from __future__ import annotations

import re

from django.test import TestCase
from django.urls import reverse

from signatures.models import Signature
from tests.factories import make_letter, make_signature, make_staff

State = Signature.State


class ActivityChartTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.letter = make_letter()
        for _ in range(3):
            make_signature(cls.letter, State.APPROVED)
        make_signature(cls.letter, State.CONFIRMED, hold_reason=Signature.HoldReason.WATCHLIST)
        make_signature(cls.letter, State.REJECTED)

    def setUp(self):
        self.client.force_login(make_staff())

    def test_the_overview_draws_today_per_day_and_per_hour_in_svg_with_a_table_beside(self):
        page = self.client.get(reverse("admin:signatures_letter_change", args=[self.letter.pk]))
        html = page.content.decode()
        assert html.count('<svg xmlns="http://www.w3.org/2000/svg" viewBox') == 2
        self.assertContains(page, 'role="img" aria-label="Signatures per day (last 14 days)"')
        self.assertContains(page, 'aria-label="Signatures per hour (last 24 hours)"')
        assert len(re.findall(r'<rect class="bar-approved"', html)) == 2  # today, and this hour
        assert len(re.findall(r'<rect class="bar-held"', html)) == 2
        assert len(re.findall(r'<rect class="bar-rejected"', html)) == 2
        # The table says the same in numbers: approved, held, rejected, the rest.
        assert html.count("<td>3</td><td>1</td><td>1</td><td>0</td>") == 2
        assert "<script" not in html.split('class="module letter-overview"')[1].split("</section>")[0]

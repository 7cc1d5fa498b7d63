"""`manage.py letter_stats`: each letter's counts by state, and the email queue's health."""

from __future__ import annotations

import io
import json

from django.core.management import call_command
from django.test import TestCase

from signatures.models import Signature
from tests.factories import make_letter, make_signature


def letter_stats(*args: str) -> str:
    out = io.StringIO()
    call_command("letter_stats", *args, stdout=out)
    return out.getvalue()


class LetterStatsTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.letter = make_letter(slug="keep-it-human")
        make_signature(cls.letter, Signature.State.APPROVED)
        make_signature(cls.letter, Signature.State.APPROVED, wants_listing=False)
        make_signature(cls.letter, Signature.State.CONFIRMED)
        make_signature(cls.letter, Signature.State.SUBMITTED)

    def test_prints_a_row_of_counts_per_letter(self):
        lines = letter_stats().splitlines()
        header = lines[0].split()
        row = dict(zip(header, lines[1].split(), strict=True))
        assert row["letter"] == "keep-it-human"
        assert row["public"] == "2"
        assert row["listed"] == "1"
        assert row["approved"] == "2"
        assert row["confirmed"] == "1"
        assert row["submitted"] == "1"

    def test_prints_the_queue_health(self):
        output = letter_stats()
        assert any(line.startswith("queue ") and "waiting" in line for line in output.splitlines())

    def test_json_for_scripts(self):
        report = json.loads(letter_stats("--json"))
        assert report["letters"] == [
            {
                "slug": "keep-it-human",
                "status": "open",
                "public": 2,
                "listed": 1,
                "submitted": 1,
                "confirmed": 1,
                "approved": 2,
                "rejected": 0,
                "withdrawn": 0,
                "held": 0,
            }
        ]
        for health in report["queue"].values():
            assert isinstance(health["depth"], int)

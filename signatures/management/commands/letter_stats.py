"""
`manage.py letter_stats`: per-letter counts and the email queue's health, for
an organizer's terminal or a cron job's mail. Read-only; counts come from the
exact counters (`SignatureCounter`), so it is instant at a million signatures.
"""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand

from signatures.models import Letter, Signature, SignatureCounter
from signatures.ops import monitoring

COLUMNS = [
    ("public", SignatureCounter.PUBLIC),
    ("listed", SignatureCounter.LISTED),
    *[(state.value, SignatureCounter.state_key(state.value)) for state in Signature.State],
    ("held", SignatureCounter.HELD),
]


class Command(BaseCommand):
    help = "Print each letter's signature counts and the email queue's depth and oldest age."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="One JSON document instead of a table.")

    def handle(self, *args, **options):
        counters: dict[int, dict[str, int]] = {}
        for letter_id, key, value in SignatureCounter.objects.values_list("letter_id", "key", "value"):
            # A tally is split over shards: the sum is the count.
            tally = counters.setdefault(letter_id, {})
            tally[key] = tally.get(key, 0) + value
        letters = [
            {
                "slug": letter.slug,
                "status": letter.status,
                **{name: counters.get(letter.pk, {}).get(key, 0) for name, key in COLUMNS},
            }
            for letter in Letter.objects.order_by("created_at", "pk")
        ]
        queue = monitoring.queue_health()

        if options["json"]:
            self.stdout.write(json.dumps({"letters": letters, "queue": queue}, indent=2))
            return

        headers = ["letter", "status", *[name for name, _key in COLUMNS]]
        rows = [[row["slug"], row["status"], *[str(row[name]) for name, _key in COLUMNS]] for row in letters]
        widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=True)]
        for line in [headers, *rows]:
            self.stdout.write("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip())
        if not rows:
            self.stdout.write("(no letters yet)")
        self.stdout.write("")
        for name, health in queue.items():
            age = health.get("oldest_age_seconds")
            age_text = "-" if age is None else f"{age}s"
            failed = f", {health['failed']} failed" if "failed" in health else ""
            self.stdout.write(f"queue {name}: {health['depth']} waiting, oldest {age_text}{failed}")

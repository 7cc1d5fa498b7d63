"""Finish emailing every update whose sending was asked for: the cron safety net after a worker crash."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from signatures import services


class Command(BaseCommand):
    help = "Queue the emails of letter updates whose sending was asked for and not finished."

    def handle(self, *args: Any, **options: Any) -> None:
        queued = services.send_requested_letter_updates()
        self.stdout.write(f"Queued {queued} update email(s).")

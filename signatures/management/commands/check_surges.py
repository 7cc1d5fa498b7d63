from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from signatures import services


class Command(BaseCommand):
    help = (
        "Flag email domains and IP hashes that sent unusually many signatures in the past hour "
        "(thresholds: SIGNATURES_SURGE_*). Run it hourly, e.g. from cron. Safe to rerun: one flag per surge."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        flags = services.flag_surges()
        for flag in flags:
            self.stdout.write(f"Flagged on letter {flag.letter_id}: {flag}")
        self.stdout.write(self.style.SUCCESS(f"{len(flags)} new surge flag(s)."))

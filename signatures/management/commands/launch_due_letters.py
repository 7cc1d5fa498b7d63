"""Make public every founding letter whose launch time has passed (run it every minute from cron or a scheduler)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from signatures import services


class Command(BaseCommand):
    help = (
        "Launch founding letters whose launch time has passed. Visitors already see them as open from that "
        "moment; this makes their status say so."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        launched = services.launch_due_letters()
        for letter in launched:
            self.stdout.write(f"Launched {letter.slug}")
        self.stdout.write(f"{len(launched)} letter(s) launched.")

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from signatures import tasks
from signatures.reports import digest


class Command(BaseCommand):
    help = (
        "Queue the daily moderation digest for organizers who opted in (the worker sends it). "
        "Run it once a day, e.g. from cron. --now sends it from this process instead."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--now", action="store_true", help="Send now instead of queueing for the worker.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["now"]:
            sent = digest.send_moderation_digest()
            self.stdout.write(self.style.SUCCESS(f"Sent the moderation digest to {sent} organizer(s)."))
            return
        result = tasks.send_moderation_digest.enqueue()
        self.stdout.write(self.style.SUCCESS(f"Queued the moderation digest (task {result.id})."))

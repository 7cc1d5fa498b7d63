from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from signatures.reports import digest


class Command(BaseCommand):
    help = "Send the daily moderation digest to organizers who opted in. Run it once a day, e.g. from cron."

    def add_arguments(self, parser: CommandParser) -> None:
        # It once meant "not through the task worker"; sending from here is now the only way.
        parser.add_argument("--now", action="store_true", help="Accepted for old cron lines; changes nothing.")

    def handle(self, *args: Any, **options: Any) -> None:
        sent = digest.send_moderation_digest()
        self.stdout.write(self.style.SUCCESS(f"Sent the moderation digest to {sent} organizer(s)."))

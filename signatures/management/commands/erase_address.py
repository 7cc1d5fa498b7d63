from __future__ import annotations

from django.core.management.base import BaseCommand, CommandParser

from signatures import services


class Command(BaseCommand):
    help = "Erase every trace of one email address (its signatures on every letter, queued emails, blocklist entries)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email")

    def handle(self, *args, **options) -> None:
        erased = services.erase_address(email=options["email"])
        summary = ", ".join(f"{kind}: {count}" for kind, count in erased.items()) or "nothing was stored"
        self.stdout.write(f"Erased ({summary}).")

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from signatures import services
from signatures.models import Letter


class Command(BaseCommand):
    help = (
        "Recompute every letter's signature counters from the signatures themselves, "
        "fix any that drifted and report them. With --check, exit non-zero if any had."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slugs", nargs="*", help="Only these letters (default: all).")
        parser.add_argument(
            "--check", action="store_true", help="Exit with status 1 if any counter had drifted (for CI and bench)."
        )

    def handle(self, *args: Any, slugs: list[str], check: bool, **options: Any) -> None:
        letters = Letter.objects.order_by("pk")
        if slugs:
            letters = letters.filter(slug__in=slugs)
            missing = set(slugs) - set(letters.values_list("slug", flat=True))
            if missing:
                raise CommandError(f"No letter with slug: {', '.join(sorted(missing))}")
        drifted = 0
        for letter in letters:
            drift = services.recount_letter(letter=letter)
            if not drift:
                self.stdout.write(f"{letter.slug}: counters exact ({letter.public_count} public).")
                continue
            drifted += len(drift)
            for key, (stored, actual) in drift.items():
                self.stdout.write(self.style.WARNING(f"{letter.slug}: {key} was {stored}, is {actual} (fixed)."))
        if drifted:
            message = f"{drifted} counter(s) had drifted and were fixed."
            if check:
                raise CommandError(message, returncode=1)
            self.stdout.write(self.style.WARNING(message))
        else:
            self.stdout.write(self.style.SUCCESS("No drift."))

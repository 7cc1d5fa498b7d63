from __future__ import annotations

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Nothing to do any more: an email is its own queue row, and one a dead worker left claimed "
        "is taken over by `send_emails` when its lease runs out. Kept so existing cron lines keep working."
    )

    def handle(self, *args, **options) -> None:
        if options["verbosity"]:
            self.stdout.write("Nothing to requeue: send_emails takes over stalled emails by itself.")

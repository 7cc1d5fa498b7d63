from __future__ import annotations

from django.core.management.base import BaseCommand

from signatures import outbox


class Command(BaseCommand):
    help = (
        "Queue a send task again for every email that is due but whose task was lost "
        "(a worker killed mid-send, a pruned task). Safe to run at any time; run it every few minutes."
    )

    def handle(self, *args, **options) -> None:
        requeued = outbox.requeue_stalled()
        if options["verbosity"]:
            self.stdout.write(f"Queued {requeued} email(s) again.")

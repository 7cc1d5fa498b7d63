from __future__ import annotations

import signal
import threading
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from signatures import outbox


class Command(BaseCommand):
    help = (
        "The email worker: sends queued emails one at a time, retrying and recovering by itself "
        "(a database restart, a dead mail server). Run one or more beside the web processes. "
        "SIGTERM or Ctrl-C finishes the email being sent, then exits."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--poll",
            type=float,
            default=None,
            help="Seconds to sleep when no email is due (default: SIGNATURES_EMAIL_POLL_SECONDS).",
        )
        parser.add_argument("--until-idle", action="store_true", help="Exit once no email is due.")
        parser.add_argument(
            "--heartbeat",
            type=Path,
            default=None,
            help="A file touched on every turn of the loop, for a container healthcheck to read.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        poll = options["poll"] if options["poll"] is not None else settings.SIGNATURES_EMAIL_POLL_SECONDS
        heartbeat = options["heartbeat"]
        if options["verbosity"]:
            self.stdout.write(f"Email worker started (polling every {poll:g}s); SIGTERM stops it after this email.")
            self.stdout.flush()
        sent = outbox.run_worker(
            stop=stop,
            poll_seconds=poll,
            until_idle=options["until_idle"],
            heartbeat=heartbeat.touch if heartbeat else None,
        )
        if options["verbosity"]:
            self.stdout.write(f"Sent {sent} email(s).")

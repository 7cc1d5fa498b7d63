#!/usr/bin/env python
"""
How many emails one worker sends per second: N queued confirmation emails
(rendered and queued exactly as the sign POST queues them) are delivered by
one `manage.py send_emails` process to a local SMTP sink (aiosmtpd).

    .venv/bin/python bench/email_throughput.py [--emails 2000] [--database-url postgres://...]

Against PostgreSQL by default (`undersigned_email_bench`, created and
migrated if missing, emptied of earlier runs). Prints progress while the
worker runs, then emails/second. Compare with the sign POST throughput from
`bench/run.py`: one worker should keep up with signing.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = os.environ.get(
    "BENCH_EMAIL_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/undersigned_email_bench"
)


class Sink:
    """Counts messages; answers at once, like a local relay."""

    def __init__(self) -> None:
        self.count = 0
        self.first_at: float | None = None
        self.last_at: float | None = None
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        now = time.monotonic()
        with self.lock:
            self.count += 1
            self.first_at = self.first_at or now
            self.last_at = now
        return "250 OK"


def ensure_postgres_database(url: str) -> None:
    import psycopg2

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = psycopg2.connect(
        host=parts.hostname, port=parts.port or 5432, user=parts.username or "postgres", dbname="postgres"
    )
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{name}"')
    admin.close()


def queue_emails(count: int) -> None:
    """Signatures and their queued confirmation emails, in batches, as sign_letter writes them."""
    from django.db import transaction

    from signatures import emails
    from signatures.models import Letter, Profession, Signature

    Signature.objects.filter(letter__slug="email-bench").delete()
    Letter.objects.filter(slug="email-bench").delete()
    letter = Letter.objects.create(
        slug="email-bench",
        title="An open letter for the email benchmark",
        addressee="The Minister",
        summary="Benchmark.",
        body="We ask you to act.",
        status=Letter.Status.OPEN,
    )
    profession = Profession.objects.create(letter=letter, name="Director")
    done = 0
    while done < count:
        size = min(500, count - done)
        with transaction.atomic():
            signatures = Signature.objects.bulk_create(
                Signature(
                    letter=letter,
                    full_name=f"Signer {n}",
                    email=f"signer{n}@bench{n}.example",
                    email_normalized=f"signer{n}@bench{n}.example",
                    email_domain=f"bench{n}.example",
                    profession=profession,
                )
                for n in range(done, done + size)
            )
            for signature in signatures:
                signature.letter = letter
                emails.send_confirmation(signature)
        done += size
        print(f"queued {done}/{count}", flush=True)


def run_worker(env: dict[str, str], sink: Sink, emails: int, timeout: float) -> bool:
    """One `manage.py send_emails` until the sink has every email (or time runs out), showing progress."""
    command = [sys.executable, str(ROOT / "manage.py"), "send_emails", "--poll", "0.1", "-v", "0"]
    started = time.monotonic()
    with tempfile.TemporaryFile() as log:
        worker = subprocess.Popen(command, env=env, cwd=ROOT, stdout=log, stderr=log)
        try:
            shown = 0.0
            while sink.count < emails and time.monotonic() - started < timeout:
                if worker.poll() is not None:
                    log.seek(0)
                    print(log.read().decode(errors="replace"))
                    return False
                time.sleep(0.2)
                if time.monotonic() - shown >= 2:
                    shown = time.monotonic()
                    elapsed = shown - (sink.first_at or started)
                    rate = sink.count / elapsed if sink.count and elapsed else 0
                    print(f"sent {sink.count}/{emails}  {rate:7.1f} emails/s", flush=True)
        finally:
            worker.send_signal(signal.SIGTERM)
            try:
                worker.wait(timeout=10)
            except subprocess.TimeoutExpired:
                worker.kill()
    return True


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--emails", type=int, default=2000)
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--timeout", type=float, default=300, help="give up after this many seconds")
    # `make bench` passes BENCH_ARGS (e.g. --duration) to every script; they do not apply here.
    args, _ = parser.parse_known_args()

    from aiosmtpd.controller import Controller

    sys.path.insert(0, str(ROOT))
    sink = Sink()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()

    env = {
        **os.environ,
        "DATABASE_URL": args.database_url,
        "DEBUG": "0",
        "SECRET_KEY": "email-bench-only-" + "x" * 40,
        "SECURE_SSL_REDIRECT": "0",
        "EMAIL_URL": f"smtp://127.0.0.1:{port}",
        "LOG_LEVEL": "WARNING",
        # Emails per address are capped against abuse; every bench address is new anyway.
        "SIGNATURES_LIMIT_EMAILS_PER_ADDRESS": "0",
        "DJANGO_SETTINGS_MODULE": "letter_site.settings",
    }
    os.environ.update(env)
    if args.database_url.startswith("postgres"):
        ensure_postgres_database(args.database_url)

    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    queue_emails(args.emails)

    from signatures.models import OutgoingEmail

    started = time.monotonic()
    try:
        if not run_worker(env, sink, args.emails, args.timeout):
            return 1
    finally:
        controller.stop()
    sent = OutgoingEmail.objects.filter(status=OutgoingEmail.Status.SENT).count()
    if sink.count < args.emails or sink.first_at is None or sink.last_at is None:
        print(f"Only {sink.count} of {args.emails} emails arrived within {args.timeout:.0f}s.")
        return 1
    steady = (sink.count - 1) / max(sink.last_at - sink.first_at, 1e-9)
    overall = sink.count / (sink.last_at - started)
    database = urlsplit(args.database_url).scheme
    print(f"{sink.count} emails delivered by one worker over SMTP to a local sink ({database}); {sent} marked sent.")
    print(f"emails/second: {steady:.1f} (steady state), {overall:.1f} including the worker's start-up")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""
A worker killed with SIGKILL in the middle of a batch loses nothing: after a
restart every queued email is delivered, and a resend carries the same
Message-ID. The worker is the real `manage.py send_emails` in a subprocess,
against this test's database (a file copy on SQLite, the test database on
PostgreSQL) and a real SMTP server.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.test import TransactionTestCase

from signatures import services
from signatures.models import OutgoingEmail
from tests.factories import make_letter
from tests.smtp import SmtpSink, database_queue

EMAILS = 8
# The worker's claim on an email lasts this long; then a restarted worker may take it over.
CLAIM_SECONDS = 1


class WorkerKilledMidBatchTests(TransactionTestCase):
    def setUp(self):
        self.enterContext(database_queue())
        self.tmp = Path(self.enterContext(tempfile.TemporaryDirectory()))

    def database_for_subprocess(self) -> str:
        if connection.vendor == "postgresql":
            db = connection.settings_dict
            host = f"{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
            return f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{host}/{db['NAME']}"
        # SQLite tests run in memory: hand the worker a file copy, read results back from it.
        self.sqlite_path = self.tmp / "worker.sqlite3"
        connection.ensure_connection()
        target = sqlite3.connect(self.sqlite_path)
        connection.connection.backup(target)
        target.close()
        return f"sqlite:///{self.sqlite_path}"

    def email_rows(self) -> list[tuple[str, str]]:
        query = "SELECT message_id, status FROM signatures_outgoingemail"
        if connection.vendor == "postgresql":
            return list(OutgoingEmail.objects.values_list("message_id", "status"))
        with sqlite3.connect(self.sqlite_path) as db:
            return db.execute(query).fetchall()

    def manage(self, *args: str) -> list[str]:
        return [sys.executable, str(settings.BASE_DIR / "manage.py"), *args]

    def test_a_worker_killed_mid_batch_loses_nothing_and_resends_with_the_same_message_id(self):
        letter = make_letter()
        for n in range(EMAILS):
            services.sign_letter(
                letter=letter, full_name=f"Signer {n}", email=f"signer{n}@example.org", profession=None, title="Actor"
            )
        message_ids = {email.message_id for email in OutgoingEmail.objects.all()}
        assert len(message_ids) == EMAILS

        sink = self.enterContext(SmtpSink(delay=0.15))
        env = {
            **os.environ,
            "DATABASE_URL": self.database_for_subprocess(),
            "EMAIL_URL": f"smtp://127.0.0.1:{sink.port}",
            "SIGNATURES_EMAIL_CLAIM_SECONDS": str(CLAIM_SECONDS),
            "LOG_LEVEL": "WARNING",
        }
        worker_args = ("send_emails", "--poll", "0.1")
        log = (self.tmp / "worker.log").open("w")
        worker = subprocess.Popen(self.manage(*worker_args), env=env, stdout=log, stderr=log)  # noqa: S603
        try:
            # Kill it while the server holds its third message, before answering it.
            deadline = time.monotonic() + 30
            while len(sink.messages) < 3 and time.monotonic() < deadline and worker.poll() is None:
                time.sleep(0.01)
            assert len(sink.messages) == 3, (self.tmp / "worker.log").read_text()
            worker.send_signal(signal.SIGKILL)
            worker.wait(timeout=10)
        finally:
            if worker.poll() is None:
                worker.kill()
                worker.wait(timeout=10)
            log.close()

        statuses = Counter(status for _, status in self.email_rows())
        assert statuses["sent"] == 2
        # The third was handed to the server and never acknowledged: the
        # worker claims one email at a time, so only that one is held.
        assert statuses["sending"] == 1
        assert statuses["queued"] == EMAILS - 3

        # A new worker takes the dead one's email over once its lease has run out.
        time.sleep(CLAIM_SECONDS + 0.5)
        subprocess.run(  # noqa: S603
            self.manage("send_emails", "--until-idle"),
            env=env,
            cwd=settings.BASE_DIR,
            check=True,
            timeout=60,
            capture_output=True,
        )

        assert Counter(status for _, status in self.email_rows()) == {"sent": EMAILS}
        received = Counter(sink.message_ids())
        assert set(received) == message_ids  # every email arrived
        # At most the one in flight arrived twice, and as the same message.
        assert sum(received.values()) in (EMAILS, EMAILS + 1)
        for message_id, copies in received.items():
            versions = {
                (m["To"], m["Date"], m["Subject"], m.get_body(("plain",)).get_content())
                for m in sink.messages
                if m["Message-ID"] == message_id
            }
            assert len(versions) == 1, f"{message_id} was sent {copies} times, differently"

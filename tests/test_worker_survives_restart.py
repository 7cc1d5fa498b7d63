"""
The email worker outlives a database restart: the real `manage.py send_emails`
keeps running while a PostgreSQL cluster of this test's own is restarted three
times (fast, immediate, fast) as emails are being queued and sent, and every
queued email arrives exactly once but for a resend carrying the same
Message-ID. The cluster is a throwaway one (initdb into a temporary
directory, its own port), never the shared server.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from unittest import skipUnless

import psycopg2
from django.test import SimpleTestCase

from tests.live_gunicorn import ROOT, run_manage
from tests.ports import free_port
from tests.smtp import SmtpSink

PG_BIN = Path("/usr/lib/postgresql/15/bin")
EMAILS = 60
RESTARTS = ("fast", "immediate", "fast")
# Seconds between restarts: each one lands while emails are still being queued and sent.
RESTART_EVERY = 1.5
# A dead worker's claim runs out this fast, so an email in flight at a crash is retried soon.
CLAIM_SECONDS = 2

# Signs EMAILS people up, one every few milliseconds, riding out the restarts
# the way a web request would be retried by its signer.
QUEUE_EMAILS = f"""
import time
import django
django.setup()
from django.db import InterfaceError, OperationalError, connection
from signatures import services
from tests.factories import make_letter

def retried(action):
    for _ in range(200):
        try:
            return action()
        except (OperationalError, InterfaceError):
            connection.close()
            time.sleep(0.1)
    raise SystemExit("the database did not come back")

# Signers from many studios: one domain would trip the abuse limits, whose mail is held.
letter = retried(lambda: make_letter(title="Still sending"))
for n in range({EMAILS}):
    retried(lambda: services.sign_letter(
        letter=letter, full_name=f"Signer {{n}}", email=f"signer{{n}}@studio{{n}}.example.org", profession=None,
        title="Actor",
    ))
    time.sleep(0.05)
"""


class ThrowawayCluster:
    """A PostgreSQL cluster in a temporary directory on a free port; removed by `remove`."""

    def __init__(self, root: Path) -> None:
        self.data = root / "data"
        self.port = free_port()
        self.log = root / "postgres.log"
        # initdb refuses to run as root: the cluster then belongs to the postgres user.
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_user:
            shutil.chown(root, "postgres")

    def run(self, *command: str) -> None:
        subprocess.run([*self.as_user, *command], check=True, capture_output=True, timeout=60)  # noqa: S603

    def create(self) -> None:
        self.run(str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        self.pg_ctl("start")
        self.run(str(PG_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "undersigned")

    def pg_ctl(self, action: str, *options: str) -> None:
        settings = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.data} -c fsync=off"
        self.run(
            str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", settings, "-w", *options, action
        )

    def restart(self, mode: str) -> None:
        self.pg_ctl("restart", "-m", mode)

    def remove(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self.pg_ctl("stop", "-m", "immediate")

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/undersigned"

    def rows(self) -> list[tuple[str, str]]:
        db = psycopg2.connect(self.url.replace("postgres://", "postgresql://"), connect_timeout=5)
        try:
            with db.cursor() as cursor:
                cursor.execute("SELECT message_id, status FROM signatures_outgoingemail")
                return cursor.fetchall()
        finally:
            db.close()


@skipUnless((PG_BIN / "initdb").exists(), f"needs PostgreSQL 15's initdb in {PG_BIN} for a throwaway cluster")
class WorkerSurvivesDatabaseRestartTests(SimpleTestCase):
    def setUp(self):
        root = Path(self.enterContext(tempfile.TemporaryDirectory()))
        self.cluster = ThrowawayCluster(root)
        self.cluster.create()
        self.addCleanup(self.cluster.remove)
        self.sink = self.enterContext(SmtpSink(delay=0.02))
        self.env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "PYTEST_"))} | {
            "DATABASE_URL": self.cluster.url,
            "DATABASE_CONNECT_TIMEOUT": "2",
            "EMAIL_URL": f"smtp://127.0.0.1:{self.sink.port}",
            "SIGNATURES_EMAIL_CLAIM_SECONDS": str(CLAIM_SECONDS),
            "DJANGO_SETTINGS_MODULE": "letter_site.settings",
        }
        run_manage("migrate", "--no-input", env=self.env)
        self.worker_log = root / "worker.log"

    def start(self, command: list[str]) -> subprocess.Popen:
        log = self.worker_log.open("a")
        self.addCleanup(log.close)
        process = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=log, stderr=log)  # noqa: S603
        self.addCleanup(lambda: process.poll() is None and (process.kill(), process.wait(timeout=10)))
        return process

    def wait_until_sent(self, timeout: float) -> list[tuple[str, str]]:
        deadline = time.monotonic() + timeout
        while True:
            rows = self.cluster.rows()
            if len(rows) >= EMAILS and all(status == "sent" for _, status in rows):
                return rows
            if time.monotonic() > deadline:
                return rows
            time.sleep(0.2)

    def test_the_worker_outlives_three_restarts_and_every_email_arrives_once(self):
        worker = self.start([sys.executable, "manage.py", "send_emails", "--poll", "0.1"])
        queuer = self.start([sys.executable, "-c", QUEUE_EMAILS])
        for mode in RESTARTS:
            time.sleep(RESTART_EVERY)
            self.cluster.restart(mode)
            assert worker.poll() is None, f"the worker exited after a {mode} restart:\n{self.worker_log.read_text()}"
        assert queuer.wait(timeout=60) == 0, self.worker_log.read_text()

        rows = self.wait_until_sent(timeout=30)
        assert worker.poll() is None, self.worker_log.read_text()
        assert Counter(status for _, status in rows) == {"sent": len(rows)}, self.worker_log.read_text()
        assert len(rows) >= EMAILS  # one per signer, and an "already signed" for a retried commit

        received = Counter(self.sink.message_ids())
        queued = {message_id for message_id, _ in rows}
        assert set(received) == queued, "0 lost, nothing unknown"
        resent = {message_id: copies for message_id, copies in received.items() if copies > 1}
        # A resend is possible only for an email in flight at a crash: at most one per restart.
        assert len(resent) <= len(RESTARTS), resent
        print(f"{len(queued)} emails, {len(resent)} resent with the same Message-ID")  # noqa: T201

        log = self.worker_log.read_text()
        # Said once per outage, not once per try.
        assert 1 <= log.count("The database is unavailable") <= len(RESTARTS), log

        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=15) == 0, log

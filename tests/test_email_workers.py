"""
Two email workers and a slow mail server never send one email twice: each
worker claims one email at a time, with a lease on that email alone. The
workers are two real `manage.py send_emails` processes on the test database.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from unittest import skipUnless

from django.conf import settings
from django.db import connection
from django.test import TransactionTestCase

from signatures import services
from signatures.models import OutgoingEmail
from tests.factories import make_letter
from tests.smtp import SmtpSink, database_queue

EMAILS = 12
# Slow enough that both workers are mid-send at once, again and again.
SMTP_DELAY = 0.3


@skipUnless(connection.vendor == "postgresql", "two worker processes share one database server (PostgreSQL)")
class TwoWorkersTests(TransactionTestCase):
    def setUp(self):
        self.enterContext(database_queue())

    def test_two_workers_and_a_slow_mail_server_send_every_email_exactly_once(self):
        letter = make_letter()
        for n in range(EMAILS):
            services.sign_letter(
                letter=letter, full_name=f"Signer {n}", email=f"signer{n}@example.org", profession=None, title="Actor"
            )
        message_ids = set(OutgoingEmail.objects.values_list("message_id", flat=True))
        assert len(message_ids) == EMAILS

        sink = self.enterContext(SmtpSink(delay=SMTP_DELAY))
        db = connection.settings_dict
        env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "PYTEST_"))} | {
            "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
            "EMAIL_URL": f"smtp://127.0.0.1:{sink.port}",
            "LOG_LEVEL": "WARNING",
        }
        log_path = Path(self.enterContext(tempfile.TemporaryDirectory())) / "workers.log"
        log = self.enterContext(log_path.open("w"))
        command = [sys.executable, str(settings.BASE_DIR / "manage.py"), "send_emails", "--poll", "0.1"]
        workers = [subprocess.Popen(command, env=env, stdout=log, stderr=log) for _ in range(2)]  # noqa: S603
        try:
            deadline = time.monotonic() + 60
            while len(sink.messages) < EMAILS and time.monotonic() < deadline:
                time.sleep(0.1)
            time.sleep(3 * SMTP_DELAY)  # time enough for a second copy to arrive, if one were coming
        finally:
            for worker in workers:
                worker.send_signal(signal.SIGTERM)
            codes = [worker.wait(timeout=15) for worker in workers]

        received = Counter(sink.message_ids())
        assert set(received) == message_ids, log_path.read_text()
        assert max(received.values()) == 1, {mid: n for mid, n in received.items() if n > 1}
        # Both workers sent some: one SMTP connection each.
        assert sink.connections == 2
        assert codes == [0, 0], log_path.read_text()
        assert set(OutgoingEmail.objects.values_list("status", "attempts")) == {("sent", 1)}

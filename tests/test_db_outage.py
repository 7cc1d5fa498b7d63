"""
When the database goes away: a plain 503 with Retry-After (never a traceback
or a 500), the letter page from its last snapshot, no signature acknowledged
and lost, and recovery by itself once the database is back.
"""

from __future__ import annotations

import contextlib
import http.client
import logging
import re
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path
from unittest import mock, skipUnless

from django.conf import settings
from django.core.cache import caches
from django.db import InterfaceError, OperationalError, connection
from django.test import Client, TestCase, TransactionTestCase, override_settings
from django.urls import reverse

from signatures.models import Signature
from tests.factories import form_guard, make_letter, sign_data
from tests.live_gunicorn import get, gunicorn, production_env, run_manage
from tests.ports import free_port
from tests.tcp_proxy import TcpProxy

logger = logging.getLogger(__name__)

DATABASE_GONE = OperationalError("server closed the connection unexpectedly")


class DatabaseGoneMiddleware:
    """Fails the way a middleware using the database (sessions, limits) fails during an outage."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        raise InterfaceError("connection already closed")


class OutagePageTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.letter = make_letter(title="Keep the lights on", goal=1000)

    def setUp(self):
        caches["fallback"].clear()
        self.url = self.letter.get_absolute_url()

    def database_down(self):
        # The views' reads of the letter (the page's, and the sign POST's own) fail as with the database gone.
        down = contextlib.ExitStack()
        for read in ("letter_or_404", "letter_to_sign"):
            down.enter_context(mock.patch(f"signatures.views.letters.{read}", side_effect=DATABASE_GONE))
        return down

    def assert_plain_503(self, response):
        assert response.status_code == 503
        assert response["Retry-After"] == "10"
        assert response["Cache-Control"] == "no-store"
        content = response.content.decode()
        assert "Back in a moment" in content
        assert "Traceback" not in content
        assert "OperationalError" not in content

    def test_a_page_answers_a_plain_503_with_retry_after(self):
        with self.database_down():
            response = self.client.get(self.url)
        self.assert_plain_503(response)

    def test_the_letter_page_is_served_from_its_last_snapshot(self):
        assert self.client.get(self.url).status_code == 200
        with self.database_down():
            response = self.client.get(self.url)
        assert response.status_code == 200
        page = response.content.decode()
        assert "Keep the lights on" in page
        assert "We ask you to <strong>act</strong>." in page
        assert 'data-goal="1000"' in page
        assert "Signing is paused for a moment" in page
        assert 'name="email"' not in page, "no sign form while signing cannot work"
        assert response["Cache-Control"] == "no-store"

    def test_a_sign_attempt_is_told_nothing_was_saved(self):
        with self.database_down():
            response = self.client.post(reverse_sign(self.letter), sign_data(self.letter))
        self.assert_plain_503(response)
        assert "Nothing was saved" in response.content.decode()
        assert not Signature.objects.exists()

    @override_settings(
        MIDDLEWARE=[*settings.MIDDLEWARE, "tests.test_db_outage.DatabaseGoneMiddleware"],
    )
    def test_a_database_error_outside_a_view_also_answers_503(self):
        client = Client(raise_request_exception=False)
        response = client.get(self.url)
        self.assert_plain_503(response)

    def test_other_errors_are_still_errors(self):
        client = Client(raise_request_exception=False)
        with mock.patch("signatures.views.letters.letter_or_404", side_effect=ValueError("a bug")):
            response = client.get(self.url)
        assert response.status_code == 500


def reverse_sign(letter) -> str:

    return reverse("signatures:sign", kwargs={"slug": letter.slug})


# The fault test's timeline, in seconds from the start of the load.
CUT_AT = 2.0
RESTORE_AT = 4.5
STOP_AT = 8.0
# The site must serve normally again this soon after the database returns.
RECOVERY_SECONDS = 1.5
CLIENTS = 3
# Generous: a busy CI machine is slow, and a hung request must still fail the test.
REQUEST_TIMEOUT = 15


@skipUnless(connection.vendor == "postgresql", "simulates a PostgreSQL outage through a TCP proxy")
class DatabaseOutageUnderLoadTests(TransactionTestCase):
    """
    A real gunicorn (the committed config, DEBUG=0) reaches PostgreSQL through a
    proxy that the test cuts for 2.5 seconds while three clients keep signing
    and reading the letter.
    """

    def setUp(self):
        self.letter = make_letter(title="Still standing")
        db = connection.settings_dict
        self.proxy = TcpProxy(db["HOST"] or "127.0.0.1", int(db["PORT"] or 5432)).__enter__()
        self.addCleanup(self.proxy.__exit__, None, None, None)
        user = urllib.parse.quote(db["USER"] or "postgres")
        password = f":{urllib.parse.quote(db['PASSWORD'])}" if db["PASSWORD"] else ""
        self.env = production_env(
            DATABASE_URL=f"postgres://{user}{password}@127.0.0.1:{self.proxy.port}/{db['NAME']}",
            SECRET_KEY=settings.SECRET_KEY,  # the form's anti-bot stamp is signed with it
            SECURE_SSL_REDIRECT="0",
            DATABASE_CONNECT_TIMEOUT="2",
            CACHE_URL="dbcache://undersigned_cache",
        )
        self._tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self._tmp.cleanup)

    def csrf(self, port: int) -> tuple[str, str]:
        status, headers, body = get(port, self.letter.get_absolute_url())
        assert status == 200
        cookie = re.search(r"csrftoken=([^;]+)", headers.get("Set-Cookie", ""))
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body)
        assert cookie
        assert token
        return cookie.group(1), token.group(1).decode()

    def post_sign(self, port: int, form: dict[str, str], cookie: str, email: str) -> int:
        # A fresh stamp per POST, as a person drawing the form each time has: a stamp is single-use.
        data = {**form, **form_guard(self.letter), "email": email}
        body = urllib.parse.urlencode(data)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
        try:
            conn.request(
                "POST",
                reverse_sign(self.letter),
                body=body,
                headers={
                    "Host": "127.0.0.1",
                    "Cookie": f"csrftoken={cookie}",
                    "Content-Type": "application/x-www-form-urlencoded",
                },
            )
            response = conn.getresponse()
            response.read()
            return response.status
        finally:
            conn.close()

    def test_503s_only_during_the_outage_no_500s_no_lost_signatures_and_recovery_without_restart(self):
        log_path = Path(self._tmp.name) / "gunicorn.log"
        with gunicorn(self.env, port=free_port(), log_path=log_path) as port:
            cookie, token = self.csrf(port)
            # Built here: the client threads must not open database connections of their own.
            form = {**sign_data(self.letter, full_name="Load Tester"), "csrfmiddlewaretoken": token}
            results: list[tuple[float, float, str, int | None, str]] = []
            lock = threading.Lock()
            start = time.monotonic()

            def client(number: int) -> None:
                attempt = 0
                while (began := time.monotonic() - start) < STOP_AT:
                    attempt += 1
                    email = f"load-{number}-{attempt}@example.org"
                    for method in ("POST", "GET"):
                        began = time.monotonic() - start
                        try:
                            if method == "POST":
                                status = self.post_sign(port, form, cookie, email)
                            else:
                                status = get(port, self.letter.get_absolute_url(), timeout=REQUEST_TIMEOUT)[0]
                        except OSError:
                            status = None
                        with lock:
                            results.append((began, time.monotonic() - start, method, status, email))
                    time.sleep(0.02)

            threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(CLIENTS)]
            for thread in threads:
                thread.start()
            time.sleep(max(0.0, CUT_AT - (time.monotonic() - start)))
            self.proxy.cut()
            time.sleep(max(0.0, RESTORE_AT - (time.monotonic() - start)))
            self.proxy.restore()
            for thread in threads:
                thread.join(timeout=STOP_AT + 2 * REQUEST_TIMEOUT)
            assert not any(thread.is_alive() for thread in threads)
            # The same gunicorn (never restarted) is healthy and ready.
            assert get(port, "/readyz")[0] == 200

        log = log_path.read_text()
        logger.info(
            "outage load: %d requests, %d acknowledged signatures, %d answered 503, %s",
            len(results),
            sum(1 for r in results if r[2] == "POST" and r[3] == 302),
            sum(1 for r in results if r[3] == 503),
            {status: sum(1 for r in results if r[3] == status) for status in {r[3] for r in results}},
        )
        statuses = [status for _began, _ended, _method, status, _email in results]
        assert None not in statuses, "every request was answered"
        assert 500 not in statuses, log[-3000:]
        assert set(statuses) <= {200, 302, 503}, set(statuses)
        assert "Traceback" not in log, log[-3000:]

        outage_503s = [r for r in results if r[3] == 503]
        assert outage_503s, "the outage was felt"
        for began, ended, method, _status, _email in outage_503s:
            assert ended >= CUT_AT, (method, began, ended)
            assert began <= RESTORE_AT + RECOVERY_SECONDS, (method, began, ended)

        after_recovery = [r for r in results if r[0] >= RESTORE_AT + RECOVERY_SECONDS]
        assert after_recovery, "the load ran past the recovery"
        assert all(r[3] in (200, 302) for r in after_recovery), after_recovery
        before_cut = [r for r in results if r[1] < CUT_AT]
        assert all(r[3] in (200, 302) for r in before_cut), before_cut

        acknowledged = {email for _b, _e, method, status, email in results if method == "POST" and status == 302}
        assert acknowledged, "signatures were accepted"
        stored = set(Signature.objects.filter(email_normalized__in=acknowledged).values_list("email", flat=True))
        assert stored == acknowledged, f"lost: {sorted(acknowledged - stored)}"


SHOW_TIMEOUT = (
    "from django.db import connection\n"
    "with connection.cursor() as cursor:\n"
    "    cursor.execute('SHOW statement_timeout')\n"
    "    print(cursor.fetchone()[0])\n"
)


@skipUnless(connection.vendor == "postgresql", "statement_timeout is a PostgreSQL setting")
class StatementTimeoutTests(TestCase):
    def show_statement_timeout(self, **environ: str) -> str:
        db = connection.settings_dict
        user = urllib.parse.quote(db["USER"] or "postgres")
        password = f":{urllib.parse.quote(db['PASSWORD'])}" if db["PASSWORD"] else ""
        env = production_env(
            DATABASE_URL=f"postgres://{user}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
            **environ,
        )
        if not environ:
            env.pop("DATABASE_STATEMENT_TIMEOUT_MS", None)
        return run_manage("shell", "--command", SHOW_TIMEOUT, env=env).stdout.strip().splitlines()[-1]

    def test_the_setting_sets_a_statement_timeout_on_every_connection(self):
        assert self.show_statement_timeout(DATABASE_STATEMENT_TIMEOUT_MS="1234") == "1234ms"

    def test_manage_py_commands_run_without_one_by_default(self):
        # Migrations and the worker may take their time; gunicorn.conf.py gives web requests one.
        assert self.show_statement_timeout() == "0"

    def test_a_cancelled_statement_answers_503_like_an_outage(self):
        cancelled = OperationalError("canceling statement due to statement timeout")
        with mock.patch("signatures.views.letters.letter_or_404", side_effect=cancelled):
            response = self.client.get(make_letter().get_absolute_url())
        assert response.status_code == 503
        assert response["Retry-After"] == "10"

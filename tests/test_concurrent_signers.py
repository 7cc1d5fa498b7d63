"""
Sixty people signing in the same second, each from their own address, all get
the normal answer: no 503 from a deadlock between the abuse limits' counters,
the letter's counters and the signature row, and no 500. A real gunicorn (the
committed config) on the test database, with the database cache and with
Redis; each client reads the letter page first and sends the form back the
way a browser does (its stamp, an empty honeypot, after the minimum fill time).
"""

from __future__ import annotations

import html
import http.client
import re
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path
from unittest import mock, skipUnless

import pytest
import redis
from django.conf import settings
from django.db import OperationalError, connection
from django.test import TransactionTestCase
from django.urls import reverse

from signatures import services
from signatures.abuse.bots import HONEYPOT_FIELD, STAMP_FIELD
from signatures.models import OutgoingEmail, Signature
from signatures.services import counting
from tests.factories import make_letter, sign_data
from tests.live_gunicorn import get, gunicorn, production_env
from tests.ports import free_port

SIGNERS = 60
ROUNDS = 3
REDIS_URL = "redis://127.0.0.1:6379/8"
REQUEST_TIMEOUT = 30


def redis_available() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def hidden(page: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', page) or re.search(rf'value="([^"]*)" name="{name}"', page)
    assert match, f"no {name} field on the page"
    return html.unescape(match.group(1))


def email(round_number: int, n: int) -> str:
    # Twelve studios: their per-domain limit counters are shared, as on a real day.
    return f"s{round_number}-{n}@studio{n % 12}.example"


class Browser:
    """One signer: their own loopback address, their own cookies."""

    def __init__(self, port: int, number: int) -> None:
        self.port = port
        self.address = f"127.0.0.{2 + number}"
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: str = "") -> tuple[int, str]:
        conn = http.client.HTTPConnection(
            "127.0.0.1", self.port, timeout=REQUEST_TIMEOUT, source_address=(self.address, 0)
        )
        headers = {"Host": "127.0.0.1", "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        if body:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            conn.request(method, path, body=body or None, headers=headers)
            response = conn.getresponse()
            text = response.read().decode(errors="replace")
            for cookie in response.headers.get_all("Set-Cookie") or []:
                name, _, rest = cookie.partition("=")
                self.cookies[name] = rest.partition(";")[0]
            return response.status, text
        finally:
            conn.close()


@skipUnless(connection.vendor == "postgresql", "row locks and deadlocks are PostgreSQL's; SQLite has one writer")
class SixtySignersAtOnceTests(TransactionTestCase):
    def setUp(self):
        self.tmp = Path(self.enterContext(tempfile.TemporaryDirectory()))

    def run_rounds(self, cache_url: str) -> None:
        letter = make_letter(title="Sixty at once", requires_moderation=False)
        db = connection.settings_dict
        env = production_env(
            DATABASE_URL=f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
            SECRET_KEY=settings.SECRET_KEY,
            SECURE_SSL_REDIRECT="0",
            CACHE_URL=cache_url,
            SIGNATURES_TRUSTED_PROXY_COUNT="0",
            SIGNATURES_MIN_FILL_SECONDS="1",
            WEB_CONCURRENCY="6",
            GUNICORN_THREADS="4",
        )
        typed = sign_data(letter)
        for field in (HONEYPOT_FIELD, STAMP_FIELD):
            typed.pop(field)
        statuses: list[int | None] = []
        sign_path = reverse("signatures:sign", kwargs={"slug": letter.slug})
        log_path = self.tmp / "gunicorn.log"
        with gunicorn(env, port=free_port(), log_path=log_path) as port:
            for round_number in range(ROUNDS):
                browsers = [Browser(port, n) for n in range(SIGNERS)]
                forms: list[dict[str, str]] = []
                for browser in browsers:
                    status, page = browser.request("GET", letter.get_absolute_url())
                    assert status == 200
                    forms.append(
                        {
                            **typed,
                            "csrfmiddlewaretoken": hidden(page, "csrfmiddlewaretoken"),
                            STAMP_FIELD: hidden(page, STAMP_FIELD),
                            HONEYPOT_FIELD: "",
                        }
                    )
                time.sleep(1.2)  # a person takes longer than the minimum fill time
                start = threading.Barrier(SIGNERS, timeout=30)

                def sign(browser: Browser, form: dict[str, str], start: threading.Barrier = start) -> None:
                    start.wait()
                    try:
                        status, _ = browser.request("POST", sign_path, urllib.parse.urlencode(form))
                    except OSError:
                        status = None
                    statuses.append(status)  # list.append is atomic

                threads = [
                    threading.Thread(
                        target=sign,
                        args=(
                            browser,
                            {**form, "full_name": f"Signer {round_number}-{n}", "email": email(round_number, n)},
                        ),
                        daemon=True,
                    )
                    for n, (browser, form) in enumerate(zip(browsers, forms, strict=True))
                ]
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join(timeout=2 * REQUEST_TIMEOUT)
                assert not any(thread.is_alive() for thread in threads)
            assert get(port, "/readyz")[0] == 200
        log = log_path.read_text()
        answers = {status: statuses.count(status) for status in set(statuses)}
        assert answers == {302: SIGNERS * ROUNDS}, (answers, log[-4000:])
        assert "deadlock detected" not in log
        assert Signature.objects.filter(letter=letter).count() == SIGNERS * ROUNDS
        assert services.recount_letter(letter=letter) == {}

    def test_sixty_signers_with_the_database_cache_all_get_the_normal_answer(self):
        self.run_rounds("dbcache://undersigned_cache")

    @skipUnless(redis_available(), f"needs Redis at {REDIS_URL}")
    def test_sixty_signers_with_redis_all_get_the_normal_answer(self):
        redis.Redis.from_url(REDIS_URL).flushdb()
        self.run_rounds(REDIS_URL)


# The real one, for the attempt after a simulated conflict.
SAVE_COUNTED = counting.save_counted


class DriverError(Exception):
    """Stands for the driver's error, which carries the SQLSTATE as `pgcode`."""

    def __init__(self, pgcode: str) -> None:
        super().__init__(pgcode)
        self.pgcode = pgcode


def conflict(sqlstate: str) -> OperationalError:
    """An error as Django raises it when PostgreSQL aborts a transaction with this SQLSTATE."""
    error = OperationalError("could not serialize access")
    error.__cause__ = DriverError(sqlstate)
    return error


class ConflictRetryTests(TransactionTestCase):
    """When PostgreSQL rolls a sign transaction back for a conflict, the signer does not see a 503."""

    def sign(self, letter, save_counted):
        with mock.patch.object(counting, "save_counted", side_effect=save_counted):
            return services.sign_letter(
                letter=letter, full_name="Agnès Varda", email="agnes@example.org", profession=None
            )

    def test_a_deadlock_is_retried_once_and_the_signer_is_signed_up_once(self):
        letter = make_letter()
        attempts = []

        def save_counted(*args, **kwargs):
            attempts.append(1)
            if len(attempts) == 1:
                raise conflict("40P01")
            return SAVE_COUNTED(*args, **kwargs)

        assert self.sign(letter, save_counted) == services.SignOutcome.CREATED
        assert len(attempts) == 2
        assert Signature.objects.filter(letter=letter).count() == 1
        assert OutgoingEmail.objects.count() == 1
        assert services.recount_letter(letter=letter) == {}

    def test_a_conflict_twice_in_a_row_is_raised_after_one_retry(self):
        letter = make_letter()
        attempts = []

        def save_counted(*args, **kwargs):
            attempts.append(1)
            raise conflict("40001")

        with pytest.raises(OperationalError):
            self.sign(letter, save_counted)
        assert len(attempts) == 2
        assert not Signature.objects.exists()

    def test_a_lost_connection_is_not_retried(self):
        letter = make_letter()
        attempts = []

        def save_counted(*args, **kwargs):
            attempts.append(1)
            raise conflict("08006")

        with pytest.raises(OperationalError):
            self.sign(letter, save_counted)
        assert len(attempts) == 1

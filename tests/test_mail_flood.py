"""
No mail for floods, attacked the way an attacker would: over HTTP, against a
live gunicorn (the committed config, production settings), with the real
email worker (`manage.py send_emails`) sending to a real SMTP server (aiosmtpd).

- A bot posts 1,000 sign forms from one address, each with a stranger's
  email, on keep-alive connections: once drawing the form afresh for every
  POST (as a browser-driving bot does), once replaying one form's stamp.
  However it goes about it, at most 50 emails leave, and every answer is the
  answer a real signer gets.
- Sixty real people sign from sixty addresses (the client socket bound to
  127.0.0.2 ... 127.0.0.61; no proxy, so REMOTE_ADDR is the client): every
  one of them is sent their confirmation, within the mail budgets.

The minimum fill time is off here: the bot we are defending against waits as
long as a person would, so what has to stop it is the limits, the held mail,
the single-use stamp and the budgets.
"""

from __future__ import annotations

import http.client
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import Counter
from pathlib import Path
from unittest import skipUnless

import redis
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.test import TransactionTestCase
from django.urls import reverse
from django.utils import timezone

from signatures import services
from signatures.models import CaughtSubmission, OutgoingEmail, Signature
from tests.factories import make_letter, sign_data
from tests.live_gunicorn import ROOT, gunicorn, production_env
from tests.ports import free_port
from tests.smtp import SmtpSink

FLOOD_POSTS = 1000
FLOOD_CONNECTIONS = 8
FLOOD_SECONDS = 90
MOST_EMAILS_A_FLOOD_MAY_SEND = 50
REAL_SIGNERS = 60
REQUEST_TIMEOUT = 15
DELIVERY_SECONDS = 30
REDIS_DB = 7

CSRF_COOKIE = re.compile(r"csrftoken=([^;]+)")
CSRF_TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
STAMP = re.compile(r'name="form_stamp" value="([^"]+)"')
# Headers that carry a per-request value; their presence must still match.
VARYING_HEADERS = {"date", "x-request-id"}


class Browser:
    """One visitor on one keep-alive connection from one source address: draws the form, posts it."""

    def __init__(self, port: int, letter, fields: dict[str, str], *, source: str = "127.0.0.1") -> None:
        self.connection = http.client.HTTPConnection(
            "127.0.0.1", port, timeout=REQUEST_TIMEOUT, source_address=(source, 0)
        )
        self.letter = letter
        self.fields = fields
        self.cookie = ""

    def close(self) -> None:
        self.connection.close()

    def request(self, method: str, path: str, body: str | None = None) -> tuple[int, dict[str, str], bytes]:
        headers = {"Host": "127.0.0.1"}
        if self.cookie:
            headers["Cookie"] = f"csrftoken={self.cookie}"
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        self.connection.request(method, path, body=body, headers=headers)
        response = self.connection.getresponse()
        content = response.read()
        found = CSRF_COOKIE.search(response.headers.get("Set-Cookie", ""))
        if found:
            self.cookie = found.group(1)
        return response.status, {key.lower(): value for key, value in response.headers.items()}, content

    def draw_form(self) -> dict[str, str]:
        status, _, page = self.request("GET", self.letter.get_absolute_url())
        assert status == 200, status
        text = page.decode()
        return {"csrfmiddlewaretoken": CSRF_TOKEN.search(text).group(1), "form_stamp": STAMP.search(text).group(1)}

    def sign(self, form: dict[str, str], *, email: str, full_name: str) -> tuple[int, dict[str, str], bytes]:
        data = {**self.fields, **form, "email": email, "full_name": full_name}
        path = reverse("signatures:sign", kwargs={"slug": self.letter.slug})
        return self.request("POST", path, urllib.parse.urlencode(data))


def normalised(answer: tuple[int, dict[str, str], bytes]) -> tuple:
    status, headers, body = answer
    headers = {key: ("*" if key in VARYING_HEADERS else value) for key, value in headers.items()}
    # The CSRF cookie is renewed on some answers; its presence is part of the shape, not its value.
    if "set-cookie" in headers:
        headers["set-cookie"] = CSRF_COOKIE.sub("csrftoken=*", headers["set-cookie"])
    return status, tuple(sorted(headers.items())), body


@skipUnless(connection.vendor == "postgresql", "gunicorn and the worker share the test database: PostgreSQL only")
class MailFloodTests(TransactionTestCase):
    def setUp(self):
        # The test process and the live site share the database cache: start every test with empty limits.
        cache.clear()
        self.letter = make_letter(title="Under attack", requires_moderation=False)
        # Published, as a launched letter is: the first signatures of a letter with no
        # version yet publish one under a lock on the letter (a separate matter).
        services.ensure_letter_version(letter=self.letter)
        # What a person types (the stamp and token come from the drawn form); read here,
        # so the client threads open no database connections of their own.
        self.fields = {key: value for key, value in sign_data(self.letter).items() if key != "form_stamp"}
        self.sink = self.enterContext(SmtpSink())
        self.tmp = Path(self.enterContext(tempfile.TemporaryDirectory()))
        db = connection.settings_dict
        user = urllib.parse.quote(db["USER"] or "postgres")
        password = f":{urllib.parse.quote(db['PASSWORD'])}" if db["PASSWORD"] else ""
        host = f"{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
        self.env = production_env(
            DATABASE_URL=f"postgres://{user}{password}@{host}/{db['NAME']}",
            SECRET_KEY=settings.SECRET_KEY,
            SECURE_SSL_REDIRECT="0",
            CACHE_URL=self.shared_cache_url(),
            EMAIL_URL=f"smtp://127.0.0.1:{self.sink.port}",
            SIGNATURES_TRUSTED_PROXY_COUNT="0",
            SIGNATURES_MIN_FILL_SECONDS="0",
            # gthread workers keep connections alive, as a bot's client would use them.
            WEB_CONCURRENCY="3",
            GUNICORN_THREADS="4",
            LOG_LEVEL="WARNING",
        )
        self.port = self.enterContext(gunicorn(self.env, port=free_port(), log_path=self.tmp / "gunicorn.log"))
        self.start_worker()

    def shared_cache_url(self) -> str:
        """
        Redis (database 7, this suite's own, emptied before and after) when one
        answers, as a busy site would run; else the database cache, the
        default. Either is shared by every process; Redis keeps the 1,000 POSTs
        well inside the bound on a loaded machine.
        """
        client = redis.Redis(host="127.0.0.1", port=6379, db=REDIS_DB, socket_timeout=1)
        try:
            client.flushdb()
        except redis.RedisError:
            return "dbcache://undersigned_cache"
        self.addCleanup(client.close)
        self.addCleanup(client.flushdb)
        return f"redis://127.0.0.1:6379/{REDIS_DB}"

    def start_worker(self) -> None:
        log = (self.tmp / "worker.log").open("w")
        self.addCleanup(log.close)
        worker = subprocess.Popen(
            [sys.executable, "manage.py", "send_emails", "--poll", "0.1"],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )

        def stop() -> None:
            worker.terminate()
            try:
                worker.wait(timeout=15)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait(timeout=5)

        self.addCleanup(stop)

    def logs(self) -> str:
        """What went wrong on the live side: log lines other than the access log's 200s and 302s."""
        parts = []
        for name in ("gunicorn.log", "worker.log"):
            lines = (self.tmp / name).read_text().splitlines()
            unusual = [line for line in lines if not re.search(r'HTTP/1.1" (200|302) |INFO django_tasks', line)]
            parts.append(f"--- {name}\n" + "\n".join(unusual[-60:]))
        return "\n".join(parts)

    def real_signer_answer(self) -> tuple:
        browser = Browser(self.port, self.letter, self.fields, source="127.0.0.200")
        try:
            return normalised(browser.sign(browser.draw_form(), email="reference@example.net", full_name="Ref Erence"))
        finally:
            browser.close()

    def flood(self, *, replay_one_stamp: bool) -> list[tuple]:
        """FLOOD_POSTS sign POSTs from 127.0.0.1 on a few keep-alive connections; the answers, normalised."""
        answers: list[tuple] = []
        errors: list[BaseException] = []
        lock = threading.Lock()
        deadline = time.monotonic() + FLOOD_SECONDS
        shared_form = Browser(self.port, self.letter, self.fields)
        replayed = shared_form.draw_form() if replay_one_stamp else None

        def bot(number: int) -> None:
            browser = Browser(self.port, self.letter, self.fields)
            if replayed is not None:
                browser.cookie = shared_form.cookie
            try:
                for n in range(number, FLOOD_POSTS, FLOOD_CONNECTIONS):
                    if time.monotonic() > deadline:
                        return
                    form = replayed or browser.draw_form()
                    answer = browser.sign(form, email=f"stranger{n}@victim{n % 40}.example", full_name=f"Stranger {n}")
                    with lock:
                        answers.append(normalised(answer))
            except BaseException as exc:  # reported by the test thread
                errors.append(exc)
            finally:
                browser.close()

        threads = [threading.Thread(target=bot, args=(n,), daemon=True) for n in range(FLOOD_CONNECTIONS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=FLOOD_SECONDS + REQUEST_TIMEOUT)
        shared_form.close()
        assert not errors, errors
        assert len(answers) == FLOOD_POSTS, f"{len(answers)} of {FLOOD_POSTS} POSTs answered in {FLOOD_SECONDS}s"
        return answers

    def wait_for_the_worker(self) -> None:
        """Until nothing is due to send (deferred and held mail wait on), or DELIVERY_SECONDS."""
        deadline = time.monotonic() + DELIVERY_SECONDS
        while time.monotonic() < deadline:
            due = OutgoingEmail.objects.queued().filter(next_attempt_at__lte=timezone.now())
            if not due.exists():
                return
            time.sleep(0.2)
        raise AssertionError(f"the worker left due mail unsent:\n{(self.tmp / 'worker.log').read_text()[-3000:]}")

    def assert_nothing_dropped(self) -> Counter:
        """Every stored signature has its confirmation: sent, deferred or held. Return the statuses."""
        statuses = Counter(OutgoingEmail.objects.filter(kind="confirm_signature").values_list("status", flat=True))
        assert sum(statuses.values()) == Signature.objects.filter(letter=self.letter).count(), statuses
        return statuses

    def test_a_flood_drawing_a_fresh_form_per_post_sends_at_most_fifty_emails_and_looks_like_success(self):
        reference = self.real_signer_answer()
        started = time.monotonic()
        answers = self.flood(replay_one_stamp=False)
        took = time.monotonic() - started
        self.wait_for_the_worker()

        flood_emails = [message for message in self.sink.messages if "victim" in message["To"]]
        assert len(flood_emails) <= MOST_EMAILS_A_FLOOD_MAY_SEND, len(flood_emails)
        # Nobody was refused: every stranger's signature is stored, nearly all held for a moderator.
        flood = Signature.objects.filter(letter=self.letter, email_normalized__contains="@victim")
        assert flood.count() == FLOOD_POSTS
        assert flood.exclude(hold_reason="").count() >= FLOOD_POSTS - MOST_EMAILS_A_FLOOD_MAY_SEND
        statuses = self.assert_nothing_dropped()
        assert statuses[OutgoingEmail.Status.HELD] >= FLOOD_POSTS - MOST_EMAILS_A_FLOOD_MAY_SEND
        assert set(answers) == {reference}, Counter(answers).most_common(3)
        print(  # noqa: T201 (the figure, in the test log)
            f"fresh-form flood: {FLOOD_POSTS} POSTs in {took:.1f}s, {len(flood_emails)} emails sent, {dict(statuses)}"
        )

    def test_a_flood_replaying_one_stamp_sends_at_most_one_email_and_looks_like_success(self):
        reference = self.real_signer_answer()
        started = time.monotonic()
        answers = self.flood(replay_one_stamp=True)
        took = time.monotonic() - started
        self.wait_for_the_worker()

        flood_emails = [message for message in self.sink.messages if "victim" in message["To"]]
        assert len(flood_emails) <= 1
        assert Signature.objects.filter(letter=self.letter, email_normalized__contains="@victim").count() <= 1
        caught = CaughtSubmission.objects.get(letter=self.letter, reason=CaughtSubmission.Reason.REUSED_STAMP)
        assert caught.count >= FLOOD_POSTS - 1
        assert set(answers) == {reference}, Counter(answers).most_common(3)
        print(f"replayed-stamp flood: {FLOOD_POSTS} POSTs in {took:.1f}s, {len(flood_emails)} emails sent")  # noqa: T201

    def test_sixty_real_signers_from_sixty_addresses_all_get_their_confirmation(self):
        answers: list[tuple] = []
        errors: list[BaseException] = []
        lock = threading.Lock()

        def person(number: int) -> None:
            browser = Browser(self.port, self.letter, self.fields, source=f"127.0.0.{number + 2}")
            try:
                form = browser.draw_form()
                # Half at a big shared provider, half at their own studio's domain.
                email = f"person{number}@gmail.com" if number % 2 else f"person{number}@studio{number}.example"
                answer = browser.sign(form, email=email, full_name=f"Real Person {number}")
                with lock:
                    answers.append(normalised(answer))
            except BaseException as exc:  # reported by the test thread
                errors.append(exc)
            finally:
                browser.close()

        started = time.monotonic()
        for batch in range(0, REAL_SIGNERS, 10):
            threads = [threading.Thread(target=person, args=(n,), daemon=True) for n in range(batch, batch + 10)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=2 * REQUEST_TIMEOUT)
        assert not errors, errors
        assert len(answers) == REAL_SIGNERS
        assert len(set(answers)) == 1, self.logs()

        deadline = time.monotonic() + DELIVERY_SECONDS
        while len(self.sink.messages) < REAL_SIGNERS and time.monotonic() < deadline:
            time.sleep(0.2)
        took = time.monotonic() - started
        recipients = sorted(address for envelope in self.sink.envelopes for address in envelope)
        assert len(recipients) == REAL_SIGNERS, (self.tmp / "worker.log").read_text()[-3000:]
        assert not Signature.objects.filter(letter=self.letter).exclude(hold_reason="").exists()
        assert self.assert_nothing_dropped() == {OutgoingEmail.Status.SENT: REAL_SIGNERS}
        print(f"{REAL_SIGNERS} real signers: all confirmations delivered {took:.1f}s after the first visit")  # noqa: T201

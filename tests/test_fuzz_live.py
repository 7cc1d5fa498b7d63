"""
No 500 for any input, against the real thing: a gunicorn started from the
committed gunicorn.conf.py with production settings (tests/live_gunicorn.py)
takes thousands of seeded, hostile requests — every URL pattern resolved with
a real letter's slug and real tokens, every method, huge and malformed fields,
invalid UTF-8 and NUL in the path, query, form fields, headers and cookies,
foreign and bogus charsets, multipart junk, forged cursors and tokens, bad
Host headers, absurd Content-Length — and every answer must be something
other than a 5xx (a 503 only as our own outage page) and carry the security
headers.

The run is reproducible: one seed (FUZZ_SEED), a count (FUZZ_REQUESTS,
1,000 by default in `make test`; `make fuzz` sends 5,000, and CI runs it) and a
deadline (FUZZ_SECONDS). A failure prints each bad
answer's method, raw path and headers.
"""

from __future__ import annotations

import contextlib
import http.client
import logging
import os
import random
import re
import socket
import sqlite3
import tempfile
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.test import TransactionTestCase
from django.urls import URLPattern, URLResolver, get_resolver, resolve

from letter_site import urls as site_urls
from signatures import services
from signatures import urls as signature_urls
from signatures.abuse.bots import HONEYPOT_FIELD, STAMP_FIELD
from signatures.models import Signature
from signatures.tokens import Purpose, make_invitation_token, make_token
from tests.factories import form_guard, make_letter, make_signature
from tests.live_gunicorn import gunicorn, production_env
from tests.ports import free_port

logger = logging.getLogger(__name__)

REQUESTS = int(os.environ.get("FUZZ_REQUESTS", "1000"))
DEADLINE_SECONDS = float(os.environ.get("FUZZ_SECONDS", "240"))
SEED = int(os.environ.get("FUZZ_SEED", "16"))
SOCKET_TIMEOUT = 15

METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"]
SECURITY_HEADERS = ["Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy"]

NASTY_TEXT = [
    "",
    "\x00",
    "nul\x00byte",
    "\x00" * 50,
    "x" * 10_000,
    "\u202eadraV",
    "<script>alert(1)</script>",
    "' OR '1'='1",
    "Robert'); DROP TABLE signatures_signature;--",
    "%",
    "%zz",
    "\r\n",
    "\ufeff\uffff",
    "𝕬𝖌𝖓𝖊̀𝖘 👩🏽‍🎨",  # noqa: RUF001 (look-alike letters on purpose)
    "\x07\x1b[31m",
    "-1",
    "99999999999999999999999999",
    "1e309",
    "NaN",
    "[]",
    "{}",
]
# Raw bytes spliced into URLs, bodies, headers and cookies as they are, not percent-encoded.
RAW_JUNK = [b"\xff", b"\xc0\xaf", b"\xed\xa0\x80", b"\x00", b"\xfe\xff", b"\x80abc", b"caf\xe9", b"\x01\x02\x7f"]
# Percent-encoded junk for the path and query.
ENCODED_JUNK = ["%00", "%ff", "%c0%af", "%ed%a0%80", "%", "%zz", "%e9", "%0d%0a", "%2e%2e%2f", "%u0041", "+%00+"]
CHARSETS = [
    "utf-8",
    "UTF-8",
    "latin-1",
    "iso-8859-1",
    "cp1252",
    "utf-16",
    "utf-16-le",
    "utf-32",
    "utf-7",
    "shift_jis",
    "koi8-r",
    "big5",
    "ascii",
    "bogus",
    "rot13",
    "rot-13",
    "hex",
    "base64",
    "zlib",
    "bz2",
    "uu",
    "idna",
    "punycode",
    "unicode_escape",
    "raw_unicode_escape",
    "mbcs",
    "utf-8\x00",
    "",
    '"utf-8"',
    "x" * 300,
    "utf_8_sig",
    "undefined",
]
CONTENT_TYPES = [
    "application/x-www-form-urlencoded",
    "multipart/form-data",
    "multipart/form-data; boundary=",
    "multipart/form-data; boundary=xyz",
    "multipart/mixed; boundary=xyz",
    "text/plain",
    "application/json",
    "application/xml",
    "application/octet-stream",
    "*/*",
    "",
    "garbage",
    "application/x-www-form-urlencoded; boundary=xyz",
    "multipart/form-data; boundary=" + "b" * 200,
]
HOSTS = [
    "127.0.0.1",
    "letters.example.org",
    "evil.example.com",
    "",
    "127.0.0.1:99999",
    "[::1",
    "a" * 300,
    "127.0.0.1\x00evil",
    "letters.example.org.",
    "xn--80ak6aa92e.com",
    "LETTERS.EXAMPLE.ORG",
    "127.0.0.1:0",
    "letters.example.org@evil.com",
    "..",
]
SIGN_FIELDS = [
    "full_name",
    "email",
    "profession",
    "title",
    "affiliation",
    "city",
    "country",
    "comment",
    "wants_listing",
]
OTHER_FIELDS = ["username", "password", "next", "language", "email", "q", "action", "_selected_action", "otp_token"]


@dataclass
class Probe:
    """One request, kept as sent so a failure can be replayed."""

    method: str
    target: bytes
    headers: list[tuple[bytes, bytes]]
    body: bytes = b""
    close: bool = False

    def describe(self) -> str:
        shown = ", ".join(f"{k!r}: {v[:120]!r}" for k, v in self.headers)
        return f"{self.method} {self.target[:300]!r} headers={{{shown}}} body={self.body[:300]!r}"


@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes
    closed: bool = field(default=False)


def _subprocess_database_url(tmp: Path) -> str:
    """The test database for gunicorn: PostgreSQL's own test database, or a file copy of SQLite's."""
    db = connection.settings_dict
    if connection.vendor == "postgresql":
        user = urllib.parse.quote(db["USER"] or "postgres")
        password = f":{urllib.parse.quote(db['PASSWORD'])}" if db["PASSWORD"] else ""
        return f"postgres://{user}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    path = tmp / "fuzz.sqlite3"
    connection.ensure_connection()
    target = sqlite3.connect(path)
    connection.connection.backup(target)
    target.close()
    return f"sqlite:///{path}"


class Targets:
    """A real path for every URL pattern, resolved with the test's own letter, signatures and tokens."""

    def __init__(self) -> None:
        self.letter = make_letter(requires_moderation=False)
        services.ensure_letter_version(letter=self.letter)
        self.founding = make_letter(status="founding")
        self.invitation = services.create_invitation(letter=self.founding, label="Fuzz", created_by=None)
        self.pending = make_signature(self.letter)
        self.approved = make_signature(self.letter, Signature.State.APPROVED)
        self.values = {
            "slug": [self.letter.slug, self.founding.slug],
            "number": ["1"],
            "object_id": [str(self.approved.pk), str(self.letter.pk), "1"],
            "app_label": ["signatures", "auth"],
            "content_type_id": ["1"],
            "id": ["1"],
            "uidb64": ["MQ"],
            "token": [
                make_token(self.pending, Purpose.CONFIRM),
                make_token(self.approved, Purpose.WITHDRAW),
                make_token(self.approved, Purpose.REAFFIRM),
                make_invitation_token(self.invitation),
            ],
        }
        self.paths: list[str] = []
        self.patterns_covered: set[str] = set()
        self.walk(get_resolver(), "")
        self.paths.append("/static/css/site.css")
        self.paths.append("/no-such-page/")

    def fill(self, route: str) -> list[str]:
        """Every way to fill a route's converters with our values (the admin's regex groups included)."""
        route = route.lstrip("^").rstrip("$").replace("\\Z", "")
        route = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"<\1>", route)
        names = re.findall(r"<(?:\w+:)?(\w+)>", route)
        if not names:
            return [route] if not re.search(r"[()\\\[\]*+?]", route) else []
        filled = []
        for variant in range(len(self.values.get(names[0], ["1"]))):
            path = route
            for name in names:
                options = self.values.get(name, ["1"])
                path = re.sub(rf"<(?:\w+:)?{name}>", options[variant % len(options)], path, count=1)
            filled.append(path)
        return filled

    def walk(self, resolver: URLResolver, prefix: str) -> None:
        for entry in resolver.url_patterns:
            route = str(entry.pattern)
            if isinstance(entry, URLResolver):
                for filled in self.fill(route) or [""]:
                    self.walk(entry, prefix + filled)
            elif isinstance(entry, URLPattern):
                for filled in self.fill(route):
                    path = "/" + prefix + filled
                    try:
                        match = resolve(path)
                    except Exception:  # noqa: S112 (a route our values cannot fill)
                        continue
                    self.paths.append(path)
                    self.patterns_covered.add(match.route)


class Fuzzer:
    def __init__(self, rng: random.Random, targets: Targets, csrf: tuple[str, str]) -> None:
        self.rng = rng
        self.targets = targets
        self.csrf_cookie, self.csrf_token = csrf

    def pick(self, options):
        return self.rng.choice(options)

    def text(self) -> str:
        if self.rng.random() < 0.6:
            return self.pick(NASTY_TEXT)
        alphabet = "aé\x00<>'\"%&=+;\\/ \t\u200b\ud7ff\ue000\U0001f600"
        return "".join(self.rng.choice(alphabet) for _ in range(self.rng.randint(0, 40)))

    def encoded(self, value: str) -> bytes:
        return urllib.parse.quote(value, safe="").encode()

    def junk_bytes(self) -> bytes:
        # Raw bytes outside ASCII mostly meet gunicorn's parser; percent-encoded ones reach Django.
        if self.rng.random() < 0.3:
            return self.pick(RAW_JUNK)
        return self.pick(ENCODED_JUNK).encode()

    def forged_token(self) -> str:
        real = self.pick(self.targets.values["token"])
        return self.pick(
            [
                real[:-1] + ("0" if real[-1] != "0" else "1"),
                real + "-x",
                real.replace("-", "--"),
                "-".join(["zz"] * 5),
                "0-0-0",
                "1" * 500,
                "",
                real + "\x00",
                real.upper(),
            ]
        )

    def cursor(self) -> str:
        return self.pick(
            [
                "",
                "x",
                "AAAA",
                "eyJ9",
                "MTIz",
                "%00",
                "a" * 2000,
                "-1",
                "bm90IGEgY3Vyc29y",
                "e30",
                "W10",
                "MTk3MC0wMS0wMVQwMDowMDowMHwx",
                "OTk5OTk5OTk5OTk5OTk5OTk5OXw5OTk5OTk5OTk5OTk5OTk5OTk5OQ",
            ]
        )

    def path(self) -> bytes:
        path = self.pick(self.targets.paths)
        roll = self.rng.random()
        if roll < 0.45:
            return urllib.parse.quote(path, safe="/:@!$&'()*+,;=").encode()
        if roll < 0.55:
            for token in self.targets.values["token"]:
                path = path.replace(token, self.forged_token())
            return urllib.parse.quote(path, safe="/%").encode()
        raw = urllib.parse.quote(path, safe="/").encode()
        cut = self.rng.randint(1, len(raw))
        mutation = self.pick(
            [
                lambda: raw[:cut] + self.junk_bytes() + raw[cut:],
                lambda: raw + self.junk_bytes() + b"/",
                lambda: raw + self.encoded(self.text()),
                lambda: raw.replace(b"/", b"//"),
                lambda: raw + b"x" * self.rng.choice([200, 2000, 3800]),
                lambda: raw + b"../../etc/passwd",
                lambda: b"/%2e%2e" + raw,
                lambda: raw.rstrip(b"/"),
                lambda: raw + b";jsessionid=1",
                raw.upper,
            ]
        )
        return mutation()

    def query(self) -> bytes:
        if self.rng.random() < 0.3:
            return b""
        pairs = []
        for _ in range(self.rng.randint(1, 4)):
            key = self.pick(["q", "q", "after", "before", "profession", "next", "page", "lang", "format", "o", "p"])
            if key in ("after", "before"):
                value = self.encoded(self.cursor())
            elif self.rng.random() < 0.15:
                value = self.junk_bytes()
            else:
                value = self.encoded(self.text())
            pairs.append(key.encode() + b"=" + value)
        if self.rng.random() < 0.05:
            pairs.append(self.junk_bytes())
        return b"?" + b"&".join(pairs)

    def form_fields(self, path: bytes) -> dict[str, str]:
        fields: dict[str, str] = {}
        if b"sign" in path:
            letter = self.targets.founding if b"invitation" in path else self.targets.letter
            guard = form_guard(letter)
            fields.update({HONEYPOT_FIELD: guard[HONEYPOT_FIELD], STAMP_FIELD: guard[STAMP_FIELD]})
            fields.update(
                {
                    "full_name": "Fuzz Tester",
                    "email": f"fuzz{self.rng.randint(0, 10**9)}@example.org",
                    "profession": str(letter.professions.first().pk),
                    "wants_listing": "on",
                }
            )
        for name in self.rng.sample(SIGN_FIELDS + OTHER_FIELDS, self.rng.randint(0, 5)):
            fields[name] = self.text()
        if self.rng.random() < 0.15:
            fields[STAMP_FIELD] = self.pick(["", "x", "1:2:3", "\x00", "9" * 400])
        if self.rng.random() < 0.9:
            fields["csrfmiddlewaretoken"] = self.csrf_token if self.rng.random() < 0.85 else self.text()
        return fields

    def body(self, path: bytes) -> tuple[bytes, str]:
        fields = self.form_fields(path)
        roll = self.rng.random()
        if roll < 0.55:
            body = urllib.parse.urlencode(fields).encode()
            if self.rng.random() < 0.25:
                body += b"&comment=" + self.junk_bytes()
            return body, "application/x-www-form-urlencoded"
        if roll < 0.85:
            boundary = "fuzzboundary"
            parts = []
            for name, value in fields.items():
                parts.append(
                    f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
                    + value.encode("utf-8", "surrogatepass")
                    + b"\r\n"
                )
            if self.rng.random() < 0.3:
                parts.append(
                    f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{self.text()}"\r\n'
                    f"Content-Type: {self.pick(CONTENT_TYPES)}\r\n\r\n".encode("utf-8", "surrogatepass")
                    + self.junk_bytes() * self.rng.randint(1, 50)
                    + b"\r\n"
                )
            body = b"".join(parts) + (f"--{boundary}--\r\n".encode() if self.rng.random() < 0.8 else b"--")
            if self.rng.random() < 0.2:
                body = body[: self.rng.randint(0, len(body))]
            ctype = self.pick([f"multipart/form-data; boundary={boundary}", *CONTENT_TYPES])
            return body, ctype
        junk = self.pick(
            [
                b"{}",
                b'{"q": "\\u0000"}',
                b"\x00" * 100,
                b"\xff\xfe" + "a=b".encode("utf-16-le"),
                b"a" * 200_000,
                b"=&=&&==",
                b"%" * 50,
                b"a=%ff%fe",
                b"a=\xff",
            ]
        )
        return junk, self.pick(CONTENT_TYPES)

    def headers(self, body: bytes, content_type: str | None) -> tuple[list[tuple[bytes, bytes]], bool]:
        close = False
        host = "127.0.0.1" if self.rng.random() < 0.75 else self.pick(HOSTS)
        headers = [(b"Host", host.encode("utf-8", "surrogatepass"))]
        cookies = []
        if self.rng.random() < 0.8:
            cookies.append(b"csrftoken=" + self.csrf_cookie.encode())
        if self.rng.random() < 0.3:
            cookies.append(
                self.pick([b"sessionid", b"csrftoken", b"django_language", b"x", b""])
                + b"="
                + self.pick([self.text().encode("utf-8", "surrogatepass"), self.junk_bytes(), b"a" * 4000])
            )
        if self.rng.random() < 0.05:
            cookies.append(self.pick([b"=;=;", b";;;", b"a", b'"', b"\x00=\x00", b"$Version=1"]))
        if cookies:
            headers.append((b"Cookie", b"; ".join(cookies)))
        if content_type is not None:
            if self.rng.random() < 0.3:
                content_type += "; charset=" + self.pick(CHARSETS)
            headers.append((b"Content-Type", content_type.encode("utf-8", "surrogatepass")))
        length = str(len(body)).encode()
        if self.rng.random() < 0.06:
            length = self.pick([b"99999999999999999999", b"-1", b"abc", b"1e3", b" 5", b"0x10", b"10000000"])
            close = True
        if body or content_type is not None or self.rng.random() < 0.1:
            headers.append((b"Content-Length", length))
        extras = [
            (b"Accept-Language", [b"fr", b"es-ES,es;q=0.9", b"*", b"x" * 500, b"\xff\xfe", b"fr;q=abc", b"zz-ZZ"]),
            (b"User-Agent", [b"fuzz", b"\xff\x00"[:1], b"x" * 2000, b"<script>"]),
            (b"X-Forwarded-For", [b"1.2.3.4", b"not-an-ip", b"1.2.3.4, , ,", b"::ffff:1.2.3.4", b"\xff"]),
            (b"X-Forwarded-Proto", [b"https", b"gopher", b"\xff"]),
            (b"X-Request-ID", [b"abc", b"x" * 500, b"\xff\xfe", b"a b"]),
            (b"Referer", [b"https://evil.example.com/", b"\xff", b"not a url", b"http://127.0.0.1/"]),
            (b"Origin", [b"null", b"https://evil.example.com", b"http://127.0.0.1", b"\xff"]),
            (b"If-None-Match", [b'"abc"', b"*", b'W/"x", "y"', b"\xff"]),
            (b"If-Modified-Since", [b"yesterday", b"Thu, 01 Jan 1970 00:00:00 GMT", b"\xff"]),
            (b"Range", [b"bytes=0-1", b"bytes=-1", b"bytes=9999999999-", b"lines=1"]),
            (b"Accept-Encoding", [b"gzip", b"br", b"*;q=0", b"\xff"]),
            (b"Accept", [b"*/*", b"text/html;q=x", b"\xff"]),
            (b"Transfer-Encoding", [b"identity"]),
        ]
        for name, options in self.rng.sample(extras, self.rng.randint(0, 4)):
            value = self.pick(options)
            if name == b"Transfer-Encoding":
                close = True
            headers.append((name, value))
        if self.rng.random() < 0.03:
            headers.append((self.pick([b"X-Junk", b"X-\xff", b"X-\x00"]), self.junk_bytes()))
            close = True
        return headers, close

    def probe(self) -> Probe:
        method = self.pick(METHODS)
        path = self.path()
        target = path + self.query()
        body, content_type = b"", None
        if method in ("POST", "PUT", "PATCH") or (method == "DELETE" and self.rng.random() < 0.3):
            body, content_type = self.body(path)
        headers, close = self.headers(body, content_type)
        return Probe(method, target, headers, body, close)


class Client:
    """Raw HTTP/1.1 over one keep-alive socket: the fuzzer's bytes reach the server as they are."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.sock: socket.socket | None = None

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def send(self, probe: Probe) -> Answer:
        reused = self.sock is not None
        try:
            return self.exchange(probe)
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            # A kept-alive connection the server had just closed: like any client, retry once on a new one.
            self.close()
            if not reused:
                raise
            return self.exchange(probe)

    def exchange(self, probe: Probe) -> Answer:
        if self.sock is None:
            self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=SOCKET_TIMEOUT)
        lines = [probe.method.encode() + b" " + probe.target + b" HTTP/1.1"]
        lines += [name + b": " + value for name, value in probe.headers]
        if probe.close:
            lines.append(b"Connection: close")
        request = b"\r\n".join(lines) + b"\r\n\r\n" + probe.body
        # The server may answer (413) and close without reading a body it refuses.
        with contextlib.suppress(OSError):
            self.sock.sendall(request)
        response = http.client.HTTPResponse(self.sock, method=probe.method)
        try:
            response.begin()
            body = response.read()
        finally:
            if probe.close or response.will_close:
                self.close()
        return Answer(response.status, response.headers, body)


def security_header_problems(answer: Answer) -> list[str]:
    missing = [name for name in SECURITY_HEADERS if not answer.headers.get(name)]
    csp = answer.headers.get("Content-Security-Policy", "")
    if not answer.headers.get("X-Frame-Options") and "frame-ancestors" not in csp:
        missing.append("X-Frame-Options or frame-ancestors")
    return missing


def is_our_outage_page(answer: Answer) -> bool:
    return (
        answer.status == 503 and answer.headers.get("Retry-After") is not None and b"Back in a moment" in answer.body
    )


class LiveFuzzTests(TransactionTestCase):
    def setUp(self):
        self.tmp = Path(self.enterContext(tempfile.TemporaryDirectory()))
        self.targets = Targets()
        self.env = production_env(
            DATABASE_URL=_subprocess_database_url(self.tmp),
            SECRET_KEY=settings.SECRET_KEY,  # the forms' anti-bot stamps and our tokens are signed with it
            SECURE_SSL_REDIRECT="0",
            CACHE_URL="dbcache://undersigned_cache",
            GUNICORN_THREADS="4",
            GUNICORN_TIMEOUT="60",
            # Deeper code, not the limiters' 429s, is what a fuzzer should reach most of the time.
            SIGNATURES_LIMIT_LIST_PAGES_PER_IP="0",
            SIGNATURES_LIMIT_TOKEN_POSTS_PER_IP="0",
            SIGNATURES_PAD_CAUGHT_RESPONSES="0",
            LOG_LEVEL="ERROR",
            GUNICORN_LOG_LEVEL="warning",
        )

    def csrf_pair(self, client: Client) -> tuple[str, str]:
        probe = Probe("GET", self.targets.letter.get_absolute_url().encode(), [(b"Host", b"127.0.0.1")])
        answer = client.send(probe)
        assert answer.status == 200, answer.status
        cookie = re.search(r"csrftoken=([^;]+)", answer.headers.get("Set-Cookie", ""))
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', answer.body)
        assert cookie, "the letter page sets the CSRF cookie"
        assert token, "the letter page carries the CSRF token"
        return cookie.group(1), token.group(1).decode()

    def test_thousands_of_hostile_requests_get_no_5xx_and_every_answer_carries_the_security_headers(self):
        for pattern in [*site_urls.urlpatterns[1:], *signature_urls.urlpatterns]:
            if not isinstance(pattern, URLResolver):
                assert str(pattern.pattern) in self.targets.patterns_covered, f"not fuzzed: {pattern.pattern}"
        admin_patterns = {route for route in self.targets.patterns_covered if route.startswith(settings.ADMIN_URL)}
        assert len(admin_patterns) >= 20, sorted(admin_patterns)

        log_path = self.tmp / "gunicorn.log"
        failures: list[str] = []
        statuses: dict[int, int] = {}
        sent = 0
        with gunicorn(self.env, port=free_port(), log_path=log_path) as port:
            client = Client(port)
            fuzzer = Fuzzer(random.Random(SEED), self.targets, self.csrf_pair(client))
            started = time.monotonic()
            while sent < REQUESTS and time.monotonic() - started < DEADLINE_SECONDS:
                probe = fuzzer.probe()
                sent += 1
                try:
                    answer = client.send(probe)
                except (OSError, http.client.HTTPException) as error:
                    client.close()
                    failures.append(f"no answer ({type(error).__name__}: {error}): {probe.describe()}")
                    continue
                statuses[answer.status] = statuses.get(answer.status, 0) + 1
                problems = []
                if answer.status >= 500 and not is_our_outage_page(answer):
                    problems.append(f"status {answer.status}")
                if missing := security_header_problems(answer):
                    problems.append(f"missing {', '.join(missing)}")
                if problems:
                    failures.append(f"{'; '.join(problems)} (status {answer.status}): {probe.describe()}")
            elapsed = time.monotonic() - started
            client.close()

        summary = (
            f"{sent} requests in {elapsed:.1f}s ({sent / elapsed:.0f}/s), seed {SEED}, "
            f"statuses {dict(sorted(statuses.items()))}, {len(failures)} failing"
        )
        logger.warning("live fuzz: %s", summary)
        print(summary)  # noqa: T201 (the figure a longer run reports)
        assert sent == REQUESTS, f"the deadline cut the run short: {summary}"
        assert not failures, summary + "\n" + "\n".join(failures[:60]) + "\n" + log_path.read_text()[-4000:]

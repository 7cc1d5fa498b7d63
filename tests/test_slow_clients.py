"""
Slow clients cannot stall the site in the documented deployment: Caddy
(deploy/Caddyfile) reads every request body before gunicorn's sync workers
see the request, so clients that declare a body and never send it hold Caddy's
cheap connections, not the few workers that serve everyone.
"""

from __future__ import annotations

import json
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from unittest import skipUnless

from django.test import SimpleTestCase

from tests.live_caddy import CADDY, NO_CADDY, letter_path, proxied_site, request
from tests.live_gunicorn import ROOT

SLOW_CLIENTS = 8
# gunicorn's timeout is 30 s: a stalled worker would answer after it, if ever.
# The letter page normally answers in milliseconds; 2 s leaves room for a busy machine.
WELL_INSIDE_THE_WORKER_TIMEOUT = 2.0


@skipUnless(CADDY, NO_CADDY)
class SlowClientTests(SimpleTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._tmp = tempfile.TemporaryDirectory()
        # Two sync workers: eight slow clients would block them four times over.
        cls._site = proxied_site(Path(cls._tmp.name), WEB_CONCURRENCY="2")
        cls.port = cls._site.__enter__()
        cls.letter_path = letter_path(cls.port)

    @classmethod
    def tearDownClass(cls):
        cls._site.__exit__(None, None, None)
        cls._tmp.cleanup()
        super().tearDownClass()

    def open_slow_clients(self, count: int) -> list[socket.socket]:
        """Connections that send a sign POST's headers, promise a 1000-byte body and never send it."""
        head = (
            f"POST {self.letter_path}sign/ HTTP/1.1\r\n"
            f"Host: 127.0.0.1:{self.port}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            "Content-Length: 1000\r\n\r\n"
        ).encode()
        clients = []
        for _ in range(count):
            client = socket.create_connection(("127.0.0.1", self.port), timeout=5)
            client.sendall(head)
            clients.append(client)
        self.addCleanup(lambda: [client.close() for client in clients])
        return clients

    def test_the_letter_page_answers_while_clients_withhold_their_bodies(self):
        # Warm both workers up, so the figure is the stall (if any), not a first render.
        for _ in range(4):
            assert request(self.port, "GET", self.letter_path)[0] == 200
        self.open_slow_clients(SLOW_CLIENTS)
        time.sleep(0.5)  # let Caddy take them all in
        started = time.monotonic()
        status, _headers, body = request(self.port, "GET", self.letter_path, timeout=40)
        elapsed = time.monotonic() - started
        print(f"\nletter page through Caddy with {SLOW_CLIENTS} slow clients: {elapsed * 1000:.0f} ms")  # noqa: T201
        assert status == 200
        assert b'name="email"' in body
        assert elapsed < WELL_INSIDE_THE_WORKER_TIMEOUT, f"{elapsed:.1f} s: a sync worker was stalled"

    def test_a_body_over_the_size_cap_never_reaches_a_worker_as_a_success(self):
        status, _headers, _body = request(
            self.port,
            "POST",
            f"{self.letter_path}sign/",
            body="x" * 2_000_000,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert status == 413, status

    def test_an_organizers_spreadsheet_upload_passes_the_proxy(self):
        # 2 MB: over the cap for everything else, well inside SIGNATURES_IMPORT_MAX_BYTES.
        status, _headers, _body = request(
            self.port,
            "POST",
            "/admin/signatures/importrun/add/",
            body="x" * 2_000_000,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        # Django itself answers (no session, no CSRF token: refused there), not the proxy.
        assert status not in {413, 502}, status
        assert status < 500, status


@skipUnless(CADDY, NO_CADDY)
class CaddyLimitsTests(SimpleTestCase):
    """What Caddy itself makes of deploy/Caddyfile (`caddy adapt`), for the limits no quick test can wait out."""

    def adapted(self) -> dict:
        result = subprocess.run(  # noqa: S603 (Debian's caddy, fixed arguments)
            [CADDY, "adapt", "--adapter", "caddyfile", "--config", str(ROOT / "deploy" / "Caddyfile")],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
        return json.loads(result.stdout)

    def handlers(self) -> list[dict]:
        found = []

        def walk(node):
            if isinstance(node, dict):
                if "handler" in node:
                    found.append(node)
                for value in node.values():
                    walk(value)
            elif isinstance(node, list):
                for value in node:
                    walk(value)

        walk(self.adapted())
        return found

    def test_slow_headers_and_bodies_are_cut_off(self):
        (server,) = self.adapted()["apps"]["http"]["servers"].values()
        # Caddy's durations are in nanoseconds.
        assert 0 < server["read_header_timeout"] <= 30 * 10**9
        assert 0 < server["read_timeout"] <= 60 * 10**9

    def test_bodies_are_buffered_and_capped_before_the_proxy(self):
        handlers = self.handlers()
        names = [handler["handler"] for handler in handlers]
        assert names.index("request_body") < names.index("reverse_proxy")
        caps = sorted(handler["max_size"] for handler in handlers if handler["handler"] == "request_body")
        # Everything but the spreadsheet upload, and the upload (SIGNATURES_IMPORT_MAX_BYTES and its form).
        assert len(caps) == 2
        assert 256 * 1024 <= caps[0] <= 1_000_000
        assert 10 * 1024 * 1024 <= caps[1] <= 12_000_000
        (proxy,) = [handler for handler in handlers if handler["handler"] == "reverse_proxy"]
        assert proxy["buffer_requests"] is True

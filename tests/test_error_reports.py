"""Optional error reports (SENTRY_DSN): off without a DSN; with one, they arrive redacted."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from django.test import SimpleTestCase

from signatures.ops.error_reports import redact_event

# The Sentry client compresses with Brotli when that module happens to be
# installed (it is in no lock of ours), else with gzip.
try:
    import brotli
except ImportError:
    brotli = None

ROOT = Path(__file__).resolve().parent.parent


class ReceivingEndpoint(BaseHTTPRequestHandler):
    """Takes what a Sentry client sends (its envelopes) and keeps the decoded bodies."""

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        encoding = self.headers.get("Content-Encoding")
        if encoding == "gzip":
            body = gzip.decompress(body)
        elif encoding == "br":
            body = brotli.decompress(body)
        self.server.bodies.append((self.path, body.decode()))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, format: str, *args: object) -> None:
        # The test reads the bodies; request lines would only clutter its output.
        pass


@contextmanager
def receiving_endpoint() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), ReceivingEndpoint)
    server.bodies = []
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def run_manage(command: str, **env: str) -> subprocess.CompletedProcess:
    """A management command in its own process, as a deployment runs one, with these variables."""
    return subprocess.run(  # noqa: S603 (manage.py with the test's own command)
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", command],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def events(body: str) -> list[dict]:
    """The error events in one envelope: a header line, then item header and payload lines."""
    items = [json.loads(line) for line in body.splitlines() if line.strip()]
    return [item for item in items if "exception" in item]


class ErrorReportTests(SimpleTestCase):
    def test_without_a_dsn_nothing_is_started(self):
        result = run_manage("import sentry_sdk; print(sentry_sdk.is_initialized())", SENTRY_DSN="")
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == "False"

    def test_a_crash_is_reported_with_the_email_in_its_message_redacted(self):
        with receiving_endpoint() as server:
            port = server.server_address[1]
            result = run_manage(
                "raise ValueError('could not deliver to Jane.Doe@private-domain.example')",
                SENTRY_DSN=f"http://publickey@127.0.0.1:{port}/7",
                SENTRY_ENVIRONMENT="staging",
                SENTRY_RELEASE="undersigned@1.2.3",
            )
        assert result.returncode != 0
        assert "ValueError" in result.stderr
        assert [path for path, _body in server.bodies] == ["/api/7/envelope/"]
        [body] = [body for _path, body in server.bodies]
        assert "private-domain.example" not in body
        [event] = events(body)
        [exception] = event["exception"]["values"]
        assert exception["type"] == "ValueError"
        assert exception["value"] == "could not deliver to [email]"
        assert event["environment"] == "staging"
        assert event["release"] == "undersigned@1.2.3"

    def test_a_request_in_a_report_loses_its_link_token_and_addresses(self):
        event = {
            "request": {
                "url": "https://letters.example.org/withdraw/12-abc-0123456789abcdef/",
                "data": {"email": "jane@private-domain.example"},
            },
            "breadcrumbs": {"values": [{"message": "sent to jane@private-domain.example"}]},
        }
        redacted = redact_event(event, hint={})
        assert redacted["request"]["url"] == "https://letters.example.org/withdraw/[token]/"
        assert redacted["request"]["data"] == {"email": "[email]"}
        assert redacted["breadcrumbs"]["values"] == [{"message": "sent to [email]"}]

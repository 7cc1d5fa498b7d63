"""gunicorn's access line: secrets redacted, and a line without any written as gunicorn writes it."""

from __future__ import annotations

from types import SimpleNamespace

from django.test import SimpleTestCase
from django.utils import timezone
from gunicorn.config import Config
from gunicorn.glogging import Logger

from signatures.ops.gunicorn_logging import RedactingLogger

TOKEN = "1-abc-" + "f" * 64


def atoms(logger_class: type[Logger], **environ: str) -> dict:
    environ = {"REQUEST_METHOD": "GET", "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "198.51.100.1", **environ}
    response = SimpleNamespace(status="200 OK", sent=10, headers=[("X-Request-Id", "r1")], response_length=10)
    request = SimpleNamespace(headers=[("USER-AGENT", "Mozilla/5.0 (X11; Linux x86_64)")])
    return logger_class(Config()).atoms(response, request, environ, timezone.timedelta(seconds=0.01))


class AccessLogRedactionTests(SimpleTestCase):
    def test_a_line_without_secrets_is_what_gunicorn_writes(self):
        environ = {"RAW_URI": "/letters/a-letter/?page=2", "PATH_INFO": "/letters/a-letter/"}
        assert atoms(RedactingLogger, **environ) == atoms(Logger, **environ)

    def test_a_secret_in_any_one_value_is_redacted_and_the_rest_kept(self):
        redacted = atoms(
            RedactingLogger, RAW_URI="/letters/a-letter/", HTTP_REFERER=f"https://x.org/withdraw/{TOKEN}/"
        )
        line = " ".join(str(value) for value in redacted.values())
        assert TOKEN not in line
        assert "https://x.org/withdraw/[token]/" in line
        assert redacted["{raw_uri}e"] == "/letters/a-letter/"

    def test_an_email_address_alone_is_redacted(self):
        redacted = atoms(RedactingLogger, RAW_URI="/letters/a-letter/?email=someone@example.org")
        assert "someone@example.org" not in " ".join(str(value) for value in redacted.values())

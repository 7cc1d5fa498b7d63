"""LOG_FORMAT=json: one JSON object per line, with `extra=` fields, request ids and nothing secret."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.test import TestCase
from django.utils.module_loading import import_string

from signatures.ops.redaction import RedactSecretsFilter


def json_formatter() -> logging.Formatter:
    """The formatter LOGGING names for LOG_FORMAT=json."""
    return import_string(settings.LOGGING["formatters"]["json"]["()"])()


@contextmanager
def json_log_lines() -> Iterator[list[dict]]:
    """The root handler LOGGING configures, switched to JSON and read back line by line."""
    handler = next(
        handler
        for handler in logging.getLogger().handlers
        if any(isinstance(log_filter, RedactSecretsFilter) for log_filter in handler.filters)
    )
    stream = io.StringIO()
    previous_stream = handler.setStream(stream)
    previous_formatter = handler.formatter
    handler.setFormatter(json_formatter())
    lines: list[dict] = []
    try:
        yield lines
    finally:
        handler.setStream(previous_stream)
        handler.setFormatter(previous_formatter)
        lines.extend(json.loads(line) for line in stream.getvalue().splitlines())


class JsonLogLineTests(TestCase):
    def test_an_extra_field_appears_in_the_json_line(self):
        with json_log_lines() as lines:
            logging.getLogger("signatures.outbox").warning("Email deferred", extra={"email_id": 42, "attempt": 3})
        [line] = lines
        assert line["message"] == "Email deferred"
        assert line["email_id"] == 42
        assert line["attempt"] == 3
        assert line["level"] == "WARNING"
        assert line["logger"] == "signatures.outbox"
        assert line["request_id"] == "-"
        assert line["time"].endswith("+00:00")

    def test_an_email_in_the_message_is_redacted(self):
        with json_log_lines() as lines:
            logging.getLogger("signatures").warning("Bounce for %s", "Jane.Doe+news@private-domain.example")
        [line] = lines
        assert line["message"] == "Bounce for [email]"
        assert "private-domain.example" not in json.dumps(line)

    def test_an_email_in_an_extra_field_is_redacted_too(self):
        with json_log_lines() as lines:
            logging.getLogger("signatures").warning("Bounce", extra={"recipient": "jane@private-domain.example"})
        [line] = lines
        assert line["recipient"] == "[email]"

    def test_an_exception_stays_on_the_same_line_and_is_redacted(self):
        with json_log_lines() as lines:
            try:
                raise ValueError("mailbox jane@private-domain.example is full")
            except ValueError:
                logging.getLogger("signatures").exception("Could not send")
        [line] = lines
        assert line["message"] == "Could not send"
        assert "ValueError: mailbox [email] is full" in line["exception"]
        assert "private-domain.example" not in json.dumps(line)

    def test_a_request_line_carries_the_request_id_and_status_and_no_path_token(self):
        with json_log_lines() as lines:
            response = self.client.post("/confirm/1-abc-secrettoken/", headers={"X-Request-ID": "lb-1234"})
        assert response.status_code in (400, 403, 404)
        [line] = [line for line in lines if line["logger"] == "django.request"]
        assert line["request_id"] == "lb-1234"
        assert line["status"] == response.status_code
        # Django passes the request object as an extra; its repr carries the path.
        assert "request" not in line
        assert "secrettoken" not in json.dumps(lines)

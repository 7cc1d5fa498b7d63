"""
Request ids and structured logs.

Every request gets an id: the one the load balancer sent in `X-Request-ID`
(when it looks sane) or a new one. It is echoed in the response header, added
to every log record written while the request runs, and written in gunicorn's
access line, so one grep joins the proxy's, gunicorn's and Django's lines.

`LOG_FORMAT=json` turns each log line into one JSON object (python-json-logger,
so `extra=` fields are kept). This module is loaded by gunicorn's master
before Django, so it imports nothing from Django at module level.
"""

from __future__ import annotations

import contextvars
import datetime
import logging
import re
import uuid
from collections.abc import Callable, Mapping
from typing import Any

import pythonjsonlogger.json
from django.core.signals import request_finished
from pythonjsonlogger.core import RESERVED_ATTRS

from .redaction import redact

REQUEST_ID_HEADER = "X-Request-ID"
# A proxy's id is trusted only if it is short and plain: it reaches log files.
_SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:/+=-]{1,128}$")

_current_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")


def current_request_id() -> str:
    return _current_request_id.get()


class RequestIdMiddleware:
    """Set `request.id`, log with it, and return it in the `X-Request-ID` header."""

    def __init__(self, get_response: Callable) -> None:

        self.get_response = get_response
        # Django logs a response's status ("Not Found: /x") after the middleware
        # returns: the id stays set until the response is finished.
        request_finished.connect(_forget_request_id, dispatch_uid="signatures.ops.logs.forget_request_id")

    def __call__(self, request):
        incoming = request.META.get("HTTP_X_REQUEST_ID", "")
        request.id = incoming if _SANE_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        _current_request_id.set(request.id)
        response = self.get_response(request)
        response[REQUEST_ID_HEADER] = request.id
        return response


def _forget_request_id(**_kwargs: Any) -> None:
    _current_request_id.set("-")


class RequestIdFilter(logging.Filter):
    """Give every record a `request_id` ("-" outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = current_request_id()
        return True


# What gunicorn's access log atoms mean, for the JSON access line.
_ACCESS_FIELDS = {
    "h": "remote_addr",
    "m": "method",
    "U": "path",
    "s": "status",
    "B": "bytes",
    "M": "duration_ms",
    "a": "user_agent",
    "{x-request-id}o": "request_id",
}
_NUMERIC_ACCESS_FIELDS = {"status", "bytes", "duration_ms"}


class JsonFormatter(pythonjsonlogger.json.JsonFormatter):
    """One JSON object per line: time, level, logger, message, request_id, any
    exception, and every field a caller passed with `extra=`.

    python-json-logger copies a record's extra attributes; Django's own extras
    are renamed (`status_code` is `status`) or left out (`request`, whose repr
    carries the path, and so an emailed link's token). Every string value goes
    through the same redaction as plain log lines, extras and tracebacks
    included, since they did not pass the message filter.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("fmt", "%(levelname)s %(name)s %(message)s")
        kwargs.setdefault(
            "rename_fields",
            {"levelname": "level", "name": "logger", "exc_info": "exception", "status_code": "status"},
        )
        kwargs.setdefault("reserved_attrs", [*RESERVED_ATTRS, "request", "server_time", "taskName"])
        kwargs.setdefault("json_ensure_ascii", False)
        super().__init__(*args, **kwargs)

    def add_fields(self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]) -> None:
        log_data["time"] = datetime.datetime.fromtimestamp(record.created, tz=datetime.UTC).isoformat(
            timespec="milliseconds"
        )
        super().add_fields(log_data, record, message_dict)
        # gunicorn's own records never pass RequestIdFilter.
        if not log_data.get("request_id"):
            log_data["request_id"] = current_request_id()
        if record.name == "gunicorn.access" and isinstance(record.args, Mapping):
            log_data.update(self._access_fields(record.args))

    def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
        return {key: redact(value) if isinstance(value, str) else value for key, value in log_data.items()}

    @staticmethod
    def _access_fields(atoms: Mapping[str, Any]) -> dict[str, Any]:
        fields: dict[str, Any] = {}
        for atom, name in _ACCESS_FIELDS.items():
            value = atoms.get(atom, "-")
            if value in ("-", None):
                continue
            if name in _NUMERIC_ACCESS_FIELDS:
                try:
                    value = int(value)
                except (TypeError, ValueError):
                    continue
            fields[name] = value
        return fields

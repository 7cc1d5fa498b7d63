"""
Keep secrets out of log lines.

Django logs request paths ("Bad Request: /confirm/<token>/"), and a path
reached by an emailed link carries a token that acts for its owner. Email
addresses are personal data. `RedactSecretsFilter`, on every handler in
LOGGING, rewrites each record's message before it is written: tokens in
`/confirm/…/`, `/withdraw/…/`, `/reaffirm/…/` and `/invitation/…/` paths, and anything shaped like an email
address, are replaced. It imports nothing from Django, so gunicorn can load it
too.
"""

from __future__ import annotations

import logging
import re

_TOKEN_PATHS = ("confirm", "withdraw", "reaffirm", "invitation")
_TOKEN_IN_PATH = re.compile(r"(/(?:" + "|".join(_TOKEN_PATHS) + r")/)[^/\s?#\"']+")
_EMAIL = re.compile(r"[\w.!#$%&'*+^`{|}~-]+@[\w-]+(?:\.[\w-]+)+")
# Neither pattern can match without one of these, and most text holds none: a
# substring test is far cheaper than the two regexes, which the access log
# otherwise ran on every request (bench/RESULTS.md).
_MARKS = ("@", *(f"/{name}/" for name in _TOKEN_PATHS))


def redact(text: str) -> str:
    if not any(mark in text for mark in _MARKS):
        return text
    text = _TOKEN_IN_PATH.sub(r"\1[token]", text)
    return _EMAIL.sub("[email]", text)


class RedactSecretsFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            return True
        redacted = redact(message)
        if redacted != message:
            record.msg = redacted
            record.args = ()
        return True

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

_TOKEN_IN_PATH = re.compile(r"(/(?:confirm|withdraw|reaffirm|invitation)/)[^/\s?#\"']+")
_EMAIL = re.compile(r"[\w.!#$%&'*+^`{|}~-]+@[\w-]+(?:\.[\w-]+)+")


def redact(text: str) -> str:
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

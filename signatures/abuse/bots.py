"""
Bot friction without a third-party captcha.

The sign form carries two extra fields:

- a honeypot (`website`), hidden from people and from assistive technology,
  which form-filling bots fill in;
- a stamp (`form_stamp`): the letter and the moment the form was drawn,
  signed with SECRET_KEY (`django.core.signing`), so it cannot be forged;
  a form sent back sooner than `SIGNATURES_MIN_FILL_SECONDS` was not typed by
  a person.

A caught submission stores nothing and sends nothing, yet gets exactly the
response a real one gets; only a tally is kept (`CaughtSubmission`).
"""

from __future__ import annotations

import random
import time
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core import signing

HONEYPOT_FIELD = "website"
STAMP_FIELD = "form_stamp"

_SALT = "signatures.bots.form-stamp"

# What `inspect` returns.
HUMAN = ""
HONEYPOT = "honeypot"
TOO_FAST = "too_fast"
BAD_STAMP = "bad_stamp"
EXPIRED = "expired"


# The last stamp made in this process: every visitor of a letter within the same
# second gets the same stamp, so a busy letter page signs once a second, not per visit.
_last_stamp: tuple[tuple[int, int, str], str] | None = None


def make_form_stamp(letter_id: int, *, issued_at: float | None = None) -> str:
    global _last_stamp  # noqa: PLW0603 (one per process)
    second = int(time.time() if issued_at is None else issued_at)
    key = (letter_id, second, settings.SECRET_KEY)
    last = _last_stamp
    if last is not None and last[0] == key:
        return last[1]
    stamp = signing.Signer(salt=_SALT).sign(f"{letter_id}:{second}")
    _last_stamp = (key, stamp)
    return stamp


def inspect(data: Mapping[str, Any], letter_id: int, *, now: float | None = None) -> str:  # noqa: PLR0911
    """Why this submission looks like a bot ('' if it does not), or EXPIRED for a form left open too long."""
    if data.get(HONEYPOT_FIELD):
        return HONEYPOT
    stamp = data.get(STAMP_FIELD)
    if not isinstance(stamp, str) or len(stamp) > 200:
        return BAD_STAMP
    try:
        value = signing.Signer(salt=_SALT).unsign(stamp)
        stamp_letter, _, issued = value.partition(":")
        if int(stamp_letter) != letter_id:
            return BAD_STAMP
        issued_at = int(issued)
    except (signing.BadSignature, ValueError):
        return BAD_STAMP
    age = (time.time() if now is None else now) - issued_at
    if age < settings.SIGNATURES_MIN_FILL_SECONDS:
        return TOO_FAST
    if age > settings.SIGNATURES_FORM_MAX_AGE_HOURS * 3600:
        return EXPIRED
    return HUMAN


class ResponseTimer:
    """
    Keeps the clock from telling a caught submission from a real one.

    A real signature renders and queues an email; a dropped one (bot, blocked
    address) does neither and would answer faster. Each worker process keeps a
    moving average of how long real sign POSTs take (`observe`), and a dropped
    one waits until about as long has passed (`pad`), with a little jitter.
    The wait holds a worker as long as a real signature would, no longer.
    """

    def __init__(self, initial_seconds: float = 0.05, weight: float = 0.1) -> None:
        self.average = initial_seconds
        self.weight = weight

    def observe(self, started: float) -> None:
        elapsed = time.monotonic() - started
        # A stalled request (a slow database) must not teach every bot answer to stall.
        elapsed = min(elapsed, 4 * self.average + 0.05)
        self.average += self.weight * (elapsed - self.average)

    def pad(self, started: float) -> None:
        if not settings.SIGNATURES_PAD_CAUGHT_RESPONSES:
            return
        target = self.average * random.uniform(0.9, 1.1)  # noqa: S311 (jitter, not security)
        remaining = target - (time.monotonic() - started)
        if remaining > 0:
            time.sleep(min(remaining, 2.0))


sign_response_timer = ResponseTimer()

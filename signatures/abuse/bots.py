"""
Bot friction without a third-party captcha.

The sign form carries two extra fields:

- a honeypot (`website`), hidden from people and from assistive technology,
  which form-filling bots fill in;
- a stamp (`form_stamp`): the letter, the moment the form was drawn, a
  random nonce and a tag of the CSRF token drawn in the same form, signed with SECRET_KEY
  (`django.core.signing`), so it cannot be forged. A form sent back sooner
  than `SIGNATURES_MIN_FILL_SECONDS` was not typed by a person; a stamp sent
  by another visitor than the one it was drawn for, or sent a second time
  (`use_stamp`: the nonce is marked used in the shared cache until the stamp
  expires), is a script replaying one form.

A caught submission stores nothing and sends nothing, yet gets exactly the
response a real one gets; only a tally is kept (`CaughtSubmission`).
"""

from __future__ import annotations

import random
import secrets
import time
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.http import HttpRequest
from django.utils.crypto import constant_time_compare, salted_hmac

HONEYPOT_FIELD = "website"
STAMP_FIELD = "form_stamp"

_SALT = "signatures.bots.form-stamp"

# What `inspect` returns.
HUMAN = ""
HONEYPOT = "honeypot"
TOO_FAST = "too_fast"
BAD_STAMP = "bad_stamp"
REUSED_STAMP = "reused_stamp"
EXPIRED = "expired"


def visitor_sending_form(request: HttpRequest) -> str:
    """
    The CSRF token the form came back with. Its stamp was bound to that token
    when the form was drawn, and CSRF protection has already checked that the
    token belongs to this visitor's cookie: a stamp taken from someone else's
    form is useless without their cookie too.
    """
    return str(request.POST.get("csrfmiddlewaretoken", ""))


def _visitor_tag(visitor: str) -> str:
    return salted_hmac(f"{_SALT}.visitor", visitor, algorithm="sha256").hexdigest()[:16]


def make_form_stamp(letter_id: int, *, visitor: str, issued_at: float | None = None) -> str:
    """A fresh stamp for one drawing of the form, for this visitor only (one HMAC: cheap enough per visit)."""
    second = int(time.time() if issued_at is None else issued_at)
    nonce = secrets.token_urlsafe(12)
    return signing.Signer(salt=_SALT).sign(f"{letter_id}:{second}:{nonce}:{_visitor_tag(visitor)}")


def _read_stamp(stamp: Any) -> tuple[int, int, str, str] | None:
    """(letter id, issued at, nonce, visitor tag) of a genuine stamp, or None."""
    if not isinstance(stamp, str) or len(stamp) > 200:
        return None
    try:
        parts = signing.Signer(salt=_SALT).unsign(stamp).split(":")
        if len(parts) == 2:
            # Drawn before stamps were bound and single-use: readable, but only as an old form.
            return int(parts[0]), int(parts[1]), "", ""
        letter_id, issued, nonce, tag = parts
        return int(letter_id), int(issued), nonce, tag
    except (signing.BadSignature, ValueError):
        return None


def inspect(data: Mapping[str, Any], letter_id: int, *, visitor: str, now: float | None = None) -> str:  # noqa: PLR0911
    """Why this submission looks like a bot ('' if it does not), or EXPIRED for a form left open too long."""
    if data.get(HONEYPOT_FIELD):
        return HONEYPOT
    stamp = _read_stamp(data.get(STAMP_FIELD))
    if stamp is None or stamp[0] != letter_id:
        return BAD_STAMP
    _, issued_at, nonce, tag = stamp
    if not nonce:
        # A page drawn before the upgrade: the person is asked to send the fresh form.
        return EXPIRED
    # A stamp drawn for no one (a form rendered outside a request; the site
    # draws every sign form in one) is single-use but sendable by anyone.
    if not constant_time_compare(tag, _visitor_tag(visitor)) and tag != _visitor_tag(""):
        return BAD_STAMP
    age = (time.time() if now is None else now) - issued_at
    if age < settings.SIGNATURES_MIN_FILL_SECONDS:
        return TOO_FAST
    if age > settings.SIGNATURES_FORM_MAX_AGE_HOURS * 3600:
        return EXPIRED
    return HUMAN


def use_stamp(data: Mapping[str, Any], *, now: float | None = None) -> bool:
    """
    Mark a form's stamp used (call once `inspect` passed it); False if it
    already was. `cache.add` is SET NX on Redis and one INSERT on the
    database cache, so of two processes only one wins.
    """
    stamp = _read_stamp(data.get(STAMP_FIELD))
    if stamp is None:
        return False
    _, issued_at, nonce, _ = stamp
    # Kept until the stamp would have expired anyway, and a minute more.
    expires_in = issued_at + settings.SIGNATURES_FORM_MAX_AGE_HOURS * 3600 - (time.time() if now is None else now)
    return cache.add(f"form-stamp-used:{nonce}", 1, timeout=max(60, int(expires_in) + 60))


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

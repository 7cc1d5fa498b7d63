"""
Emailed-link tokens that store nothing.

Like Django's password-reset tokens, a token is an HMAC (SHA-256, 256 bits)
over its purpose, the signature's id, the part of the signature's state that
the action changes, and a timestamp. Using a link changes that state, so a
used token dies by itself; a token for one purpose never passes for another;
and tokens expire after `SIGNATURES_TOKEN_MAX_AGE_DAYS`.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable

from django.conf import settings
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.http import base36_to_int, int_to_base36

from .models import Signature

# Timestamps count seconds from here to keep tokens short.
_EPOCH = 1_700_000_000
_MAX_TOKEN_LENGTH = 120


def _confirm_state(signature: Signature) -> str:
    return f"{signature.state}:{signature.email_normalized}"


def _withdraw_state(signature: Signature) -> str:
    withdrawn = signature.withdrawn_at.isoformat() if signature.withdrawn_at else ""
    return f"{withdrawn}:{signature.email_normalized}"


class Purpose(enum.Enum):
    CONFIRM = "confirm"
    WITHDRAW = "withdraw"

    @property
    def state_of(self) -> Callable[[Signature], str]:
        return {Purpose.CONFIRM: _confirm_state, Purpose.WITHDRAW: _withdraw_state}[self]


def _digest(purpose: Purpose, signature: Signature, timestamp: int) -> str:
    value = f"{signature.pk}:{purpose.state_of(signature)}:{timestamp}"
    return salted_hmac(f"signatures.tokens.{purpose.value}", value, algorithm="sha256").hexdigest()


def make_token(signature: Signature, purpose: Purpose, *, now: float | None = None) -> str:
    timestamp = int(now if now is not None else time.time()) - _EPOCH
    return f"{int_to_base36(signature.pk)}-{int_to_base36(timestamp)}-{_digest(purpose, signature, timestamp)}"


def parse_token(token: str) -> tuple[int, int, str] | None:
    """Split a token into (signature id, timestamp, digest), or None if malformed."""
    if not isinstance(token, str) or len(token) > _MAX_TOKEN_LENGTH:
        return None
    parts = token.split("-")
    if len(parts) != 3:
        return None
    pk_b36, ts_b36, digest = parts
    try:
        pk = base36_to_int(pk_b36)
        timestamp = base36_to_int(ts_b36)
    except ValueError:
        return None
    if pk <= 0 or len(digest) != 64:
        return None
    return pk, timestamp, digest


def signature_id_from_token(token: str) -> int | None:
    parsed = parse_token(token)
    return parsed[0] if parsed else None


def check_token(signature: Signature, token: str, purpose: Purpose, *, now: float | None = None) -> bool:
    """True if `token` was made for this signature and purpose, is unexpired and unused."""
    parsed = parse_token(token)
    if parsed is None or parsed[0] != signature.pk:
        return False
    _, timestamp, digest = parsed
    if not constant_time_compare(digest, _digest(purpose, signature, timestamp)):
        return False
    age = int(now if now is not None else time.time()) - _EPOCH - timestamp
    max_age = settings.SIGNATURES_TOKEN_MAX_AGE_DAYS * 24 * 3600
    return 0 <= age <= max_age

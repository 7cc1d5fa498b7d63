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

from signatures.models import Invitation, LetterVersion, Signature

# Timestamps count seconds from here to keep tokens short.
_EPOCH = 1_700_000_000
_MAX_TOKEN_LENGTH = 120


def _confirm_state(signature: Signature) -> str:
    return f"{signature.state}:{signature.email_normalized}"


def _withdraw_state(signature: Signature) -> str:
    withdrawn = signature.withdrawn_at.isoformat() if signature.withdrawn_at else ""
    return f"{withdrawn}:{signature.email_normalized}"


def _reaffirm_state(signature: Signature) -> str:
    # Bound to the version signed and to the latest major revision: re-affirming
    # kills the link, and so does a newer major revision (which sends a new one).
    latest_major = (
        LetterVersion.objects.filter(letter_id=signature.letter_id, is_major=True)
        .order_by("-number")
        .values_list("pk", flat=True)
        .first()
    )
    # Not the state: a signature approved after the email keeps a working link
    # (the service still refuses withdrawn and rejected ones).
    return f"{signature.version_id}:{signature.needs_reaffirmation}:{latest_major}:{signature.email_normalized}"


def _unsubscribe_state(signature: Signature) -> str:
    # Not wants_updates: a second click (a mail client's one-click POST, then
    # the person's own) still works and still answers "unsubscribed". Withdrawal
    # erases the address, which kills the link.
    return signature.email_normalized


class Purpose(enum.Enum):
    CONFIRM = "confirm"
    WITHDRAW = "withdraw"
    REAFFIRM = "reaffirm"
    UNSUBSCRIBE = "unsubscribe"

    @property
    def state_of(self) -> Callable[[Signature], str]:
        return {
            Purpose.CONFIRM: _confirm_state,
            Purpose.WITHDRAW: _withdraw_state,
            Purpose.REAFFIRM: _reaffirm_state,
            Purpose.UNSUBSCRIBE: _unsubscribe_state,
        }[self]

    @property
    def max_age_days(self) -> int:
        # An unsubscribe link must work as long as the email sits in an inbox.
        if self is Purpose.UNSUBSCRIBE:
            return settings.SIGNATURES_UNSUBSCRIBE_TOKEN_MAX_AGE_DAYS
        return settings.SIGNATURES_TOKEN_MAX_AGE_DAYS


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
    max_age = purpose.max_age_days * 24 * 3600
    return 0 <= age <= max_age


# --- founding-phase invitations ----------------------------------------------
#
# An invitation link carries the invitation's id and an HMAC of a random nonce
# stored on it: the database alone never reveals a working link, revoking is a
# timestamp, and the admin can show the link again whenever an organizer asks.


def _invitation_digest(invitation_pk: int, nonce: str) -> str:
    return salted_hmac("signatures.tokens.invitation", f"{invitation_pk}:{nonce}", algorithm="sha256").hexdigest()


def make_invitation_token(invitation: Invitation) -> str:
    return f"{int_to_base36(invitation.pk)}-{_invitation_digest(invitation.pk, invitation.nonce)}"


def invitation_from_token(token: str) -> Invitation | None:
    """The invitation a link names if its secret is right (whether still usable or not)."""
    if not isinstance(token, str) or len(token) > _MAX_TOKEN_LENGTH or token.count("-") != 1:
        return None
    pk_b36, digest = token.split("-")
    try:
        pk = base36_to_int(pk_b36)
    except ValueError:
        return None
    if pk <= 0 or len(digest) != 64:
        return None
    invitation = Invitation.objects.select_related("letter").filter(pk=pk).first()
    if invitation is None or not constant_time_compare(digest, _invitation_digest(pk, invitation.nonce)):
        return None
    return invitation

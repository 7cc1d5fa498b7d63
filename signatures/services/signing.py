"""Signing: a sign attempt, the confirmation link, re-affirming a new text version."""

from __future__ import annotations

import enum
import hashlib
import logging
from typing import Any

from django.conf import settings
from django.db import IntegrityError, OperationalError, transaction
from django.db.models import F
from django.utils import timezone

from signatures import emails
from signatures.abuse import limits
from signatures.abuse.lists import blocklist_reason, name_hold
from signatures.models import (
    CaughtSubmission,
    Invitation,
    Letter,
    Profession,
    Signature,
)
from signatures.services import counting
from signatures.services.letters import ensure_letter_version
from signatures.text import normalize_email
from signatures.tokens import Purpose, check_token, signature_id_from_token

State = Signature.State

logger = logging.getLogger(__name__)


class SignOutcome(enum.Enum):
    """What happened to a sign attempt. Never shown to the signer: the response is the same."""

    CREATED = "created"
    RESENT_CONFIRMATION = "resent_confirmation"
    ALREADY_SIGNED = "already_signed"
    BLOCKED = "blocked"


class SigningClosed(Exception):
    """The letter is not accepting signatures."""


def hash_ip(ip_address: str | None) -> str:
    if not ip_address:
        return ""
    salt = settings.SIGNATURES_IP_SALT or f"ip-hash:{settings.SECRET_KEY}"
    return hashlib.sha256(f"{salt}:{ip_address}".encode()).hexdigest()


def lock_usable_invitation(invitation: Invitation, letter: Letter) -> Invitation:
    # The row lock makes concurrent sign-ups through a limited link queue up,
    # so a link with one use left admits exactly one new signature.
    locked = Invitation.objects.select_for_update().filter(pk=invitation.pk, letter=letter).first()
    if locked is None or not locked.is_usable or not letter.is_founding_phase or letter.is_paused:
        raise SigningClosed
    return locked


# PostgreSQL's serialization_failure and deadlock_detected: the transaction
# was rolled back whole, and running it again is safe.
RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})


def is_retryable_conflict(exc: OperationalError) -> bool:
    cause = exc.__cause__
    return (getattr(cause, "pgcode", None) or getattr(cause, "sqlstate", None)) in RETRYABLE_SQLSTATES


def sign_letter(
    *,
    letter: Letter,
    full_name: str,
    email: str,
    profession: Profession | None,
    title: str = "",
    affiliation: str = "",
    city: str = "",
    country: str = "",
    comment: str = "",
    wants_listing: bool = False,
    wants_updates: bool = False,
    ip_address: str | None = None,
    language: str = "",
    invitation: Invitation | None = None,
    consent_version: str = "",
    answers: dict[str, str | bool] | None = None,
) -> SignOutcome:
    """Record a signature and email its confirmation link; one signature per email per letter."""
    if invitation is not None or letter.is_accepting_signatures:
        # The first signer of a new letter publishes its first version, which
        # locks the letter row: in a transaction of its own, so that lock is
        # never held while waiting for the counters (the first wave of signers
        # on a new letter deadlocked on it).
        ensure_letter_version(letter=letter)
    fields: dict[str, Any] = {
        "letter": letter,
        "full_name": full_name,
        "email": email,
        "profession": profession,
        "title": title,
        "affiliation": affiliation,
        "city": city,
        "country": country,
        "comment": comment,
        "wants_listing": wants_listing,
        "wants_updates": wants_updates,
        "ip_address": ip_address,
        "language": language,
        "invitation": invitation,
        "consent_version": consent_version,
        "answers": answers,
    }
    try:
        return _sign_letter(**fields)
    except OperationalError as exc:
        # A conflict with a concurrent signer rolled everything back: try once
        # more rather than answer 503. Inside a caller's transaction the
        # caller has to decide.
        if not is_retryable_conflict(exc) or transaction.get_connection().in_atomic_block:
            raise
        logger.info(
            "Sign attempt on letter %s ran into a concurrent one (%s); retrying once", letter.pk, exc.__cause__
        )
    return _sign_letter(**fields)


@transaction.atomic
def _sign_letter(
    *,
    letter: Letter,
    full_name: str,
    email: str,
    profession: Profession | None,
    title: str,
    affiliation: str,
    city: str,
    country: str,
    comment: str,
    wants_listing: bool,
    wants_updates: bool,
    ip_address: str | None,
    language: str,
    invitation: Invitation | None,
    consent_version: str,
    answers: dict[str, str | bool] | None,
) -> SignOutcome:
    if invitation is not None:
        # A founding letter is signed only through a usable invitation.
        invitation = lock_usable_invitation(invitation, letter)
    elif not letter.is_accepting_signatures:
        raise SigningClosed
    email_normalized = normalize_email(email)
    blocked = blocklist_reason(email_normalized)
    if blocked:
        # Silently: the signer sees the normal response, only a tally is kept.
        record_caught_submission(letter=letter, reason=blocked)
        return SignOutcome.BLOCKED
    # Over a per-IP or per-domain limit the signature is kept but held for a
    # moderator; invited founding signatories are trusted. Every attempt past
    # here emails the address (a confirmation or "already signed"), so its
    # email cap is counted in the same round trip.
    attempt = limits.count_sign_attempt(
        letter_id=letter.pk, ip_address=ip_address, email_normalized=email_normalized, trusted=invitation is not None
    )
    hold_reason = attempt.hold_reason
    # Tripping an abuse limit sends nothing at once: the email waits for a moderator.
    held = hold_reason in (Signature.HoldReason.IP_LIMIT, Signature.HoldReason.DOMAIN_LIMIT)
    active = Signature.objects.select_for_update().filter(letter=letter, email_normalized=email_normalized)
    signature = Signature(
        hold_reason=hold_reason,
        listing_consent_at=timezone.now() if wants_listing else None,
        wants_updates=wants_updates,
        updates_consent_at=timezone.now() if wants_updates else None,
        consent_version=consent_version,
        letter=letter,
        full_name=full_name,
        email=email,
        email_normalized=email_normalized,
        profession=profession,
        title=title,
        affiliation=affiliation,
        city=city,
        country=country,
        comment=comment,
        wants_listing=wants_listing,
        ip_hash=hash_ip(ip_address),
        language=language,
        is_founding=invitation is not None,
        version=ensure_letter_version(letter=letter),
        answers=answers or {},
    )
    # Every attempt tries the INSERT and lets the one-signature-per-email
    # constraint say whether the address is known (also what makes concurrent
    # identical submits safe): a new and a known address cost the same work,
    # so the clock cannot tell who signed.
    try:
        with transaction.atomic():
            counting.save_counted(signature, keys_before=set())
    except IntegrityError:
        existing = active.exclude(state=State.WITHDRAWN).get()
    else:
        if invitation is not None:
            Invitation.objects.filter(pk=invitation.pk).update(use_count=F("use_count") + 1)
        emails.send_confirmation(signature, held=held, ip_address=ip_address, may_email=attempt.may_email)
        return SignOutcome.CREATED
    # A new signature waited for its counter's row lock until the end of its
    # transaction; a known address waits for the same lock, changing nothing.
    counting.wait_for_counters(letter_id=letter.pk, keys=signature.counter_keys())

    # A repeat of a known address gets the same treatment as a new one, held
    # mail included: the same work, so neither the mailbox nor the clock tells.
    if existing.state == State.SUBMITTED:
        emails.send_confirmation(existing, held=held, ip_address=ip_address, may_email=attempt.may_email)
        return SignOutcome.RESENT_CONFIRMATION
    emails.send_already_signed(existing, held=held, ip_address=ip_address, may_email=attempt.may_email)
    return SignOutcome.ALREADY_SIGNED


def find_signature_for_token(token: str, purpose: Purpose) -> Signature | None:
    """The signature a link belongs to if the link is valid now (read-only; for GET pages)."""
    pk = signature_id_from_token(token)
    if pk is None:
        return None
    signature = Signature.objects.select_related("letter").filter(pk=pk).first()
    if signature is None or not check_token(signature, token, purpose):
        return None
    return signature


@transaction.atomic
def confirm_signature(*, token: str, wants_listing: bool = False) -> Signature | None:
    """Confirm by emailed link (POST only), once; auto-approve unless the letter moderates or it is held."""
    pk = signature_id_from_token(token)
    if pk is None:
        return None
    # The row lock makes concurrent POSTs of one link queue up; only the first
    # still sees a valid token, because confirming changes what it signs.
    signature = Signature.objects.select_for_update().select_related("letter").filter(pk=pk).first()
    if signature is None or not check_token(signature, token, Purpose.CONFIRM):
        return None
    if signature.state != State.SUBMITTED:
        return None
    keys_before = signature.counter_keys()
    now = timezone.now()
    signature.state = State.CONFIRMED
    signature.confirmed_at = now
    if signature.is_invited_by_organizers:
        # Invited by the organizers: the person, not the file, says whether to be named.
        signature.wants_listing = wants_listing
        signature.listing_consent_at = now if wants_listing else None
    # Checked at confirmation, on every letter (moderated or not, founding
    # invitations too): a look-alike of a watchlist name would otherwise be
    # listed at once, under a name a reader trusts.
    hold = name_hold(signature.full_name)
    if hold is not None:
        signature.hold_reason = hold.reason
        signature.hold_detail = hold.detail
        signature.held_for_entry_id = hold.entry_id
    if not signature.letter.requires_moderation and not signature.hold_reason:
        signature.state = State.APPROVED
        signature.approved_at = now
    counting.save_counted(signature, keys_before)
    return signature


@transaction.atomic
def record_caught_submission(*, letter: Letter, reason: str) -> None:
    """Tally a dropped sign attempt (bot or blocklist) for organizers; nothing about it is kept."""

    day = timezone.localdate()
    updated = CaughtSubmission.objects.filter(letter=letter, day=day, reason=reason).update(count=F("count") + 1)
    if updated:
        return
    try:
        with transaction.atomic():
            CaughtSubmission.objects.create(letter=letter, day=day, reason=reason, count=1)
    except IntegrityError:
        CaughtSubmission.objects.filter(letter=letter, day=day, reason=reason).update(count=F("count") + 1)


@transaction.atomic
def reaffirm_signature(*, token: str) -> Signature | None:
    """Re-affirm a signature on the letter's current text by emailed link (POST only), once."""
    pk = signature_id_from_token(token)
    if pk is None:
        return None
    signature = Signature.objects.select_for_update().select_related("letter").filter(pk=pk).first()
    if signature is None or not check_token(signature, token, Purpose.REAFFIRM):
        return None
    if not signature.needs_reaffirmation or signature.state not in (State.CONFIRMED, State.APPROVED):
        return None
    signature.version = ensure_letter_version(letter=signature.letter)
    signature.needs_reaffirmation = False
    signature.reaffirmed_at = timezone.now()
    signature.save(update_fields=["version", "needs_reaffirmation", "reaffirmed_at"])
    return signature

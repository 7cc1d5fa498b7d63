"""Signing: a sign attempt, the confirmation link, re-affirming a new text version."""

from __future__ import annotations

import enum
import hashlib

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from signatures import emails
from signatures.abuse import limits
from signatures.abuse.lists import blocklist_reason
from signatures.models import (
    CaughtSubmission,
    Invitation,
    Letter,
    Profession,
    Signature,
    WatchlistEntry,
)
from signatures.services import counting
from signatures.services.letters import ensure_letter_version
from signatures.text import normalize_email
from signatures.tokens import Purpose, check_token, signature_id_from_token

State = Signature.State


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


@transaction.atomic
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
    ip_address: str | None = None,
    language: str = "",
    invitation: Invitation | None = None,
    consent_version: str = "",
) -> SignOutcome:
    """Record a signature and email its confirmation link; one signature per email per letter."""
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
    # moderator; invited founding signatories are trusted.
    hold_reason = (
        ""
        if invitation is not None
        else limits.sign_attempt_hold_reason(
            letter_id=letter.pk, ip_address=ip_address, email_normalized=email_normalized
        )
    )
    # Insert first: nearly every attempt is a new signer, and the unique
    # constraint on the normalised email decides, under any concurrency,
    # whether one exists. Only on a conflict is the existing one read (and
    # locked, so a confirm or withdraw in flight finishes first).
    signature = Signature(
        hold_reason=hold_reason,
        listing_consent_at=timezone.now() if wants_listing else None,
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
    )
    try:
        # A savepoint: the insert may lose to the constraint, and the transaction goes on.
        with transaction.atomic():
            counting.save_counted(signature, keys_before=set())
    except IntegrityError:
        existing = (
            Signature.objects.select_for_update()
            .filter(letter=letter, email_normalized=email_normalized)
            .exclude(state=State.WITHDRAWN)
            .get()
        )
    else:
        if invitation is not None:
            Invitation.objects.filter(pk=invitation.pk).update(use_count=F("use_count") + 1)
        emails.send_confirmation(signature)
        return SignOutcome.CREATED

    if existing.state == State.SUBMITTED:
        emails.send_confirmation(existing)
        return SignOutcome.RESENT_CONFIRMATION
    emails.send_already_signed(existing)
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


def _watchlist_hit(signature: Signature) -> bool:
    return WatchlistEntry.objects.filter(name_key=signature.name_key).exists()


@transaction.atomic
def confirm_signature(*, token: str) -> Signature | None:
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
    if _watchlist_hit(signature):
        signature.hold_reason = Signature.HoldReason.WATCHLIST
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

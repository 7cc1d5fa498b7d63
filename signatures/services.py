"""
Every change to a signature's state happens here: one verb each, one
transaction each. Views, admin actions, commands and tasks only call these.

Counters (`SignatureCounter`) are changed in the same transaction as the
signatures they count, through `_save_counted`, so the public count is exact
without counting rows.
"""

from __future__ import annotations

import enum
import hashlib
from collections import Counter
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from . import emails
from .models import Letter, Profession, Signature, SignatureCounter, WatchlistEntry
from .text import normalize_email
from .tokens import Purpose, check_token, signature_id_from_token

State = Signature.State


class SignOutcome(enum.Enum):
    """What happened to a sign attempt. Never shown to the signer: the response is the same."""

    CREATED = "created"
    RESENT_CONFIRMATION = "resent_confirmation"
    ALREADY_SIGNED = "already_signed"


class SigningClosed(Exception):
    """The letter is not accepting signatures."""


# --- counters ---------------------------------------------------------------


def counter_keys(signature: Signature) -> set[str]:
    """The counters a signature in its current state contributes one to."""
    keys = {f"state:{signature.state}"}
    if signature.state == State.CONFIRMED and signature.hold_reason:
        keys.add("held")
    if signature.state == State.APPROVED:
        keys.add(SignatureCounter.PUBLIC)
        if signature.wants_listing:
            keys.add(SignatureCounter.LISTED)
            if signature.profession_id:
                keys.add(f"profession:{signature.profession_id}")
    return keys


def _apply_counter_deltas(letter_id: int, deltas: Counter[str]) -> None:
    # A fixed key order keeps concurrent transactions from deadlocking.
    for key in sorted(deltas):
        delta = deltas[key]
        if delta == 0:
            continue
        updated = SignatureCounter.objects.filter(letter_id=letter_id, key=key).update(value=F("value") + delta)
        if updated:
            continue
        try:
            with transaction.atomic():
                SignatureCounter.objects.create(letter_id=letter_id, key=key, value=delta)
        except IntegrityError:
            # Another transaction created the row first.
            SignatureCounter.objects.filter(letter_id=letter_id, key=key).update(value=F("value") + delta)


def _save_counted(signature: Signature, keys_before: set[str], update_fields: Iterable[str] | None = None) -> None:
    signature.save(update_fields=update_fields)
    keys_after = counter_keys(signature)
    deltas: Counter[str] = Counter()
    for key in keys_after - keys_before:
        deltas[key] += 1
    for key in keys_before - keys_after:
        deltas[key] -= 1
    _apply_counter_deltas(signature.letter_id, deltas)


@transaction.atomic
def recount_letter(*, letter: Letter) -> dict[str, tuple[int, int]]:
    """Recompute a letter's counters from the signatures; return {key: (stored, actual)} for any drift."""
    actual: Counter[str] = Counter()
    rows = Signature.objects.filter(letter=letter).values_list(
        "state", "hold_reason", "wants_listing", "profession_id"
    )
    for state, hold_reason, wants_listing, profession_id in rows.iterator(chunk_size=5000):
        probe = Signature(
            state=state, hold_reason=hold_reason, wants_listing=wants_listing, profession_id=profession_id
        )
        actual.update(counter_keys(probe))
    stored = {c.key: c for c in SignatureCounter.objects.select_for_update().filter(letter=letter).order_by("key")}
    drift = {}
    for key in sorted(set(stored) | set(actual)):
        stored_value = stored[key].value if key in stored else 0
        if stored_value != actual[key]:
            drift[key] = (stored_value, actual[key])
            SignatureCounter.objects.update_or_create(letter=letter, key=key, defaults={"value": actual[key]})
    return drift


# --- signing ----------------------------------------------------------------


def hash_ip(ip_address: str | None) -> str:
    if not ip_address:
        return ""
    salt = settings.SIGNATURES_IP_SALT or f"ip-hash:{settings.SECRET_KEY}"
    return hashlib.sha256(f"{salt}:{ip_address}".encode()).hexdigest()


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
) -> SignOutcome:
    """Record a signature and email its confirmation link; one signature per email per letter."""
    letter = Letter.objects.get(pk=letter.pk)
    if not letter.is_accepting_signatures:
        raise SigningClosed
    email_normalized = normalize_email(email)
    active = Signature.objects.select_for_update().filter(letter=letter, email_normalized=email_normalized)
    existing = active.exclude(state=State.WITHDRAWN).first()
    if existing is None:
        signature = Signature(
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
        )
        try:
            # A savepoint: a concurrent identical submit may win the unique constraint.
            with transaction.atomic():
                _save_counted(signature, keys_before=set())
        except IntegrityError:
            existing = active.exclude(state=State.WITHDRAWN).get()
        else:
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
    keys_before = counter_keys(signature)
    now = timezone.now()
    signature.state = State.CONFIRMED
    signature.confirmed_at = now
    if _watchlist_hit(signature):
        signature.hold_reason = Signature.HoldReason.WATCHLIST
    if not signature.letter.requires_moderation and not signature.hold_reason:
        signature.state = State.APPROVED
        signature.approved_at = now
    _save_counted(signature, keys_before)
    return signature


# --- moderation -------------------------------------------------------------


def _locked(signature_ids: Iterable[int]) -> list[Signature]:
    # Lock in id order so two moderators working the same rows cannot deadlock.
    return list(Signature.objects.select_for_update().filter(pk__in=list(signature_ids)).order_by("pk"))


@transaction.atomic
def approve_signatures(*, signature_ids: Iterable[int], moderator: AbstractBaseUser | None) -> int:
    """Approve confirmed signatures (held ones included): they count, and are listed if the signer agreed."""
    now = timezone.now()
    approved = 0
    for signature in _locked(signature_ids):
        if signature.state != State.CONFIRMED:
            continue
        keys_before = counter_keys(signature)
        signature.state = State.APPROVED
        signature.approved_at = now
        signature.moderated_at = now
        signature.moderated_by = moderator
        _save_counted(signature, keys_before)
        approved += 1
    return approved


@transaction.atomic
def reject_signatures(*, signature_ids: Iterable[int], moderator: AbstractBaseUser | None, reason: str = "") -> int:
    """Reject signatures that are not withdrawn: they leave the list and the count."""
    now = timezone.now()
    rejected = 0
    for signature in _locked(signature_ids):
        if signature.state in (State.REJECTED, State.WITHDRAWN):
            continue
        keys_before = counter_keys(signature)
        signature.state = State.REJECTED
        signature.rejected_at = now
        signature.rejection_reason = reason[:300]
        signature.moderated_at = now
        signature.moderated_by = moderator
        _save_counted(signature, keys_before)
        rejected += 1
    return rejected


def _set_flag(signature_ids: Iterable[int], moderator: AbstractBaseUser | None, **changes: Any) -> int:
    now = timezone.now()
    changed = 0
    for signature in _locked(signature_ids):
        if signature.state == State.WITHDRAWN:
            continue
        keys_before = counter_keys(signature)
        for field, value in changes.items():
            setattr(signature, field, value)
        signature.moderated_at = now
        signature.moderated_by = moderator
        _save_counted(signature, keys_before)
        changed += 1
    return changed


@transaction.atomic
def mark_verified(
    *, signature_ids: Iterable[int], moderator: AbstractBaseUser | None, is_verified: bool = True, method: str = ""
) -> int:
    """Record that a signer's identity was checked (or undo it)."""
    return _set_flag(
        signature_ids, moderator, is_verified=is_verified, verification_method=method if is_verified else ""
    )


@transaction.atomic
def mark_notable(*, signature_ids: Iterable[int], moderator: AbstractBaseUser | None, is_notable: bool = True) -> int:
    """Show signatures first on the public list (or stop doing so)."""
    return _set_flag(signature_ids, moderator, is_notable=is_notable)

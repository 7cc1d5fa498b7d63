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
import re
import secrets
from collections import Counter
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import Count, EmailField, F, Q, QuerySet
from django.utils import timezone

from . import emails, limits, organizer_data, text
from .delivery import freeze_delivered_list
from .models import (
    DigestSubscription,
    InvalidationRun,
    Invitation,
    Letter,
    LetterVersion,
    Profession,
    Signature,
    SignatureCounter,
    SurgeFlag,
    WatchlistEntry,
)
from .text import normalize_email
from .tokens import Purpose, check_token, signature_id_from_token

State = Signature.State


class SignOutcome(enum.Enum):
    """What happened to a sign attempt. Never shown to the signer: the response is the same."""

    CREATED = "created"
    RESENT_CONFIRMATION = "resent_confirmation"
    ALREADY_SIGNED = "already_signed"
    BLOCKED = "blocked"


class SigningClosed(Exception):
    """The letter is not accepting signatures."""


# --- counters ---------------------------------------------------------------


def counter_keys(signature: Signature) -> set[str]:
    """The counters a signature in its current state contributes one to."""
    keys = {f"state:{signature.state}"}
    if signature.state == State.CONFIRMED and signature.hold_reason:
        keys.add("held")
    if signature.state == State.REJECTED and signature.rejection_category:
        # The public ledger counts removals as fraudulent apart from other rejections.
        keys.add(f"rejected:{signature.rejection_category}")
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
    # One row per distinct combination of the fields counter_keys reads: a
    # million signatures come back as a few dozen groups.
    groups = (
        Signature.objects.filter(letter=letter)
        .order_by()
        .values("state", "hold_reason", "wants_listing", "profession_id", "rejection_category")
        .annotate(signatures=Count("pk"))
    )
    for group in groups:
        signatures = group.pop("signatures")
        for key in counter_keys(Signature(**group)):
            actual[key] += signatures
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
    invitation: Invitation | None = None,
    consent_version: str = "",
) -> SignOutcome:
    """Record a signature and email its confirmation link; one signature per email per letter."""
    if letter.is_translation:
        # A copy for display refuses to be saved and carries translated text.
        letter = Letter.objects.get(pk=letter.pk)
    if invitation is not None:
        # A founding letter is signed only through a usable invitation.
        invitation = _lock_usable_invitation(invitation, letter)
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
    active = Signature.objects.select_for_update().filter(letter=letter, email_normalized=email_normalized)
    existing = active.exclude(state=State.WITHDRAWN).first()
    if existing is None:
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
            # A savepoint: a concurrent identical submit may win the unique constraint.
            with transaction.atomic():
                _save_counted(signature, keys_before=set())
        except IntegrityError:
            existing = active.exclude(state=State.WITHDRAWN).get()
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
def reject_signatures(
    *,
    signature_ids: Iterable[int],
    moderator: AbstractBaseUser | None,
    reason: str = "",
    category: str = Signature.RejectionCategory.OTHER,
) -> int:
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
        signature.rejection_category = category
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


# --- incidents and organizers' tools ----------------------------------------


@transaction.atomic
def set_letter_paused(*, letter: Letter, is_paused: bool) -> bool:
    """Pause (or resume) signing without closing the letter; pending confirmations keep working."""
    changed = (
        Letter.objects.filter(pk=letter.pk)
        .exclude(is_paused=is_paused)
        .update(is_paused=is_paused, updated_at=timezone.now())
    )
    letter.is_paused = is_paused
    return bool(changed)


# Pending signatures are invalidated too: a flood's unconfirmed rows must not
# be confirmed later by whoever controls those mailboxes.
INVALIDATABLE_STATES = (State.SUBMITTED, State.CONFIRMED, State.APPROVED)


class InvalidationCriteriaMissing(ValueError):
    """A bulk invalidation needs at least one criterion besides the letter."""


def _name_pattern_filter(pattern: str) -> Q:
    # Compared on the name key, so case, accents and spacing do not matter;
    # '*' stands for any characters.
    key = text.name_key(pattern)
    if "*" not in key:
        return Q(name_key=key)
    regex = "^" + ".*".join(re.escape(part) for part in key.split("*")) + "$"
    return Q(name_key__regex=regex)


def signatures_to_invalidate(
    *,
    letter: Letter,
    email_domain: str = "",
    ip_hash: str = "",
    name_pattern: str = "",
    created_from: datetime | None = None,
    created_until: datetime | None = None,
) -> QuerySet[Signature]:
    """The signatures `invalidate_signatures` would reject with these criteria (read-only, for the preview)."""
    if not any((email_domain, ip_hash, name_pattern, created_from, created_until)):
        raise InvalidationCriteriaMissing
    signatures = Signature.objects.filter(letter=letter, state__in=INVALIDATABLE_STATES)
    if email_domain:
        signatures = signatures.filter(email_domain=email_domain.strip().lstrip("@").lower())
    if ip_hash:
        signatures = signatures.filter(ip_hash=ip_hash.strip())
    if name_pattern:
        signatures = signatures.filter(_name_pattern_filter(name_pattern))
    if created_from:
        signatures = signatures.filter(created_at__gte=created_from)
    if created_until:
        signatures = signatures.filter(created_at__lt=created_until)
    return signatures.order_by()


def _reject_in_bulk(
    signature_ids: list[int], moderator: AbstractBaseUser | None, reason: str, chunk_size: int = 1000
) -> tuple[int, int]:
    """Reject many signatures in a few queries; counters change by the same deltas `_save_counted` would apply."""
    now = timezone.now()
    rejected = public = 0
    for start in range(0, len(signature_ids), chunk_size):
        deltas: dict[int, Counter[str]] = {}
        changed = []
        for signature in _locked(signature_ids[start : start + chunk_size]):
            if signature.state not in INVALIDATABLE_STATES:
                continue
            keys_before = counter_keys(signature)
            public += signature.state == State.APPROVED
            signature.state = State.REJECTED
            signature.rejected_at = now
            signature.rejection_reason = reason[:300]
            # Bulk invalidation removes floods and fakes: the public ledger counts them as fraudulent.
            signature.rejection_category = Signature.RejectionCategory.FRAUD
            signature.moderated_at = now
            signature.moderated_by = moderator
            keys_after = counter_keys(signature)
            letter_deltas = deltas.setdefault(signature.letter_id, Counter())
            for key in keys_after - keys_before:
                letter_deltas[key] += 1
            for key in keys_before - keys_after:
                letter_deltas[key] -= 1
            changed.append(signature)
        Signature.objects.bulk_update(
            changed,
            ["state", "rejected_at", "rejection_reason", "rejection_category", "moderated_at", "moderated_by"],
        )
        for letter_id, letter_deltas in sorted(deltas.items()):
            _apply_counter_deltas(letter_id, letter_deltas)
        rejected += len(changed)
    return rejected, public


@transaction.atomic
def invalidate_signatures(
    *,
    letter: Letter,
    moderator: AbstractBaseUser | None,
    reason: str = "",
    email_domain: str = "",
    ip_hash: str = "",
    name_pattern: str = "",
    created_from: datetime | None = None,
    created_until: datetime | None = None,
    previewed_count: int = 0,
) -> InvalidationRun:
    """Reject every pending, confirmed or approved signature matching the criteria, and record who did it."""
    criteria = {
        "email_domain": email_domain.strip().lstrip("@").lower(),
        "ip_hash": ip_hash.strip(),
        "name_pattern": name_pattern.strip(),
        "created_from": created_from,
        "created_until": created_until,
    }
    ids = list(signatures_to_invalidate(letter=letter, **criteria).order_by("pk").values_list("pk", flat=True))
    rejected, public = _reject_in_bulk(ids, moderator, reason or _invalidation_reason(criteria))
    return InvalidationRun.objects.create(
        letter=letter,
        reason=reason[:300],
        previewed_count=previewed_count,
        signature_count=rejected,
        public_count=public,
        ran_by=moderator,
        **criteria,
    )


def _invalidation_reason(criteria: dict[str, Any]) -> str:
    return "Bulk invalidation: " + ", ".join(f"{key}={value}" for key, value in criteria.items() if value)


def _surge_threshold(kind: str) -> int:
    if kind == SurgeFlag.Kind.EMAIL_DOMAIN:
        return settings.SIGNATURES_SURGE_DOMAIN_PER_HOUR
    return settings.SIGNATURES_SURGE_IP_PER_HOUR


@transaction.atomic
def flag_surges(*, now: datetime | None = None) -> list[SurgeFlag]:
    """Flag each email domain or IP hash above its hourly threshold: one open flag per surge, however often run."""
    now = now or timezone.now()
    window_start = now - timedelta(hours=1)
    recent = Signature.objects.filter(created_at__gte=window_start, created_at__lt=now)
    ignored_domains = {domain.lower() for domain in settings.SIGNATURES_SURGE_IGNORED_DOMAINS}
    raised = []
    for kind in SurgeFlag.Kind:
        field = kind.value
        rows = (
            recent.exclude(**{field: ""})
            .order_by()
            .values("letter_id", field)
            .annotate(signature_count=Count("id"))
            .filter(signature_count__gte=_surge_threshold(kind))
        )
        for row in rows:
            value = row[field]
            if kind == SurgeFlag.Kind.EMAIL_DOMAIN and value in ignored_domains:
                continue
            open_flag = (
                SurgeFlag.objects.select_for_update()
                .filter(letter_id=row["letter_id"], kind=kind, value=value, reviewed_at__isnull=True)
                .first()
            )
            if open_flag is not None:
                open_flag.last_seen_at = now
                if row["signature_count"] > open_flag.signature_count:
                    open_flag.signature_count = row["signature_count"]
                    open_flag.window_start = window_start
                open_flag.save(update_fields=["last_seen_at", "signature_count", "window_start"])
                continue
            try:
                with transaction.atomic():
                    flag = SurgeFlag.objects.create(
                        letter_id=row["letter_id"],
                        kind=kind,
                        value=value,
                        window_start=window_start,
                        signature_count=row["signature_count"],
                        created_at=now,
                        last_seen_at=now,
                    )
            except IntegrityError:
                continue  # a concurrent run raised it first
            raised.append(flag)
    return raised


@transaction.atomic
def review_surge_flags(*, flag_ids: Iterable[int], moderator: AbstractBaseUser | None) -> int:
    """Close flags a moderator has looked at; a surge that goes on afterwards raises a new one."""
    return SurgeFlag.objects.filter(pk__in=list(flag_ids), reviewed_at__isnull=True).update(
        reviewed_at=timezone.now(), reviewed_by=moderator
    )


@transaction.atomic
def set_digest_subscription(*, user: AbstractBaseUser, is_subscribed: bool) -> None:
    """Opt a staff member in to (or out of) the daily moderation digest email."""
    if is_subscribed:
        DigestSubscription.objects.get_or_create(user=user)
    else:
        DigestSubscription.objects.filter(user=user).delete()


# --- founding phase, text versions, delivery ----------------------------------


class NothingToPublish(Exception):
    """The letter's text is the same as its latest published version."""


def _lock_usable_invitation(invitation: Invitation, letter: Letter) -> Invitation:
    # The row lock makes concurrent sign-ups through a limited link queue up,
    # so a link with one use left admits exactly one new signature.
    locked = Invitation.objects.select_for_update().filter(pk=invitation.pk, letter=letter).first()
    if locked is None or not locked.is_usable or not letter.is_founding_phase or letter.is_paused:
        raise SigningClosed
    return locked


@transaction.atomic
def create_invitation(
    *,
    letter: Letter,
    label: str,
    created_by: AbstractBaseUser | None,
    max_uses: int | None = None,
    expires_at: datetime | None = None,
) -> Invitation:
    """A new private link to a founding letter, for one invitee (max_uses=1) or a group."""
    return Invitation.objects.create(
        letter=letter,
        label=label,
        nonce=secrets.token_hex(32),
        max_uses=max_uses,
        expires_at=expires_at,
        created_by=created_by,
    )


@transaction.atomic
def revoke_invitations(*, invitation_ids: Iterable[int]) -> int:
    """Stop links from letting anyone in; signatures already made through them stay."""
    return Invitation.objects.filter(pk__in=list(invitation_ids), revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )


def _publish_version(letter: Letter, *, is_major: bool, note: str, by: AbstractBaseUser | None) -> LetterVersion:
    latest = LetterVersion.objects.filter(letter=letter).order_by("-number").first()
    content_hash = LetterVersion.hash_text(letter.title, letter.body)
    if latest is not None and latest.content_hash == content_hash:
        raise NothingToPublish
    version = LetterVersion.objects.create(
        letter=letter,
        number=latest.number + 1 if latest else 1,
        title=letter.title,
        body=letter.body,
        body_html=letter.body_html,
        content_hash=content_hash,
        # The first text is what everyone signs: a major version by definition.
        is_major=is_major or latest is None,
        change_note=note[:500],
        published_by=by,
    )
    Letter.objects.filter(pk=letter.pk).update(version_count=version.number)
    letter.version_count = version.number
    letter.__dict__.pop("current_version", None)
    letter.__dict__.pop("version_numbers", None)
    return version


def ensure_letter_version(*, letter: Letter) -> LetterVersion:
    """The letter's current published text, publishing its first version if it has none yet."""
    version = organizer_data.current_version(letter)
    if version is not None:
        # The usual case, read without a savepoint of its own: every sign request takes it.
        return version
    return _publish_first_version(letter=letter)


@transaction.atomic
def _publish_first_version(*, letter: Letter) -> LetterVersion:
    Letter.objects.select_for_update().filter(pk=letter.pk).first()
    version = LetterVersion.objects.filter(letter=letter).order_by("-number").first()
    if version is not None:  # another transaction published it while we waited
        return version
    return _publish_version(Letter.objects.get(pk=letter.pk), is_major=True, note="", by=None)


@transaction.atomic
def publish_letter_version(
    *, letter: Letter, is_major: bool, note: str = "", by: AbstractBaseUser | None = None
) -> LetterVersion:
    """
    Publish the letter's current text as a new immutable version. A major
    revision flags every confirmed or approved signature on an earlier text
    and emails its signer the difference with a link to re-affirm or withdraw;
    a minor one (a typo) asks nobody anything.
    """
    letter = Letter.objects.select_for_update().get(pk=letter.pk)
    version = _publish_version(letter, is_major=is_major, note=note, by=by)
    if not version.is_major or version.number == 1:
        return version
    earlier = (
        Signature.objects.filter(letter=letter, state__in=[State.CONFIRMED, State.APPROVED])
        .filter(Q(version__isnull=True) | Q(version__number__lt=version.number))
        .select_related("letter", "version")
        .order_by("pk")
    )
    earlier.update(needs_reaffirmation=True)
    for signature in earlier.iterator(chunk_size=1000):
        emails.send_revision_notice(signature, new_version=version)
    return version


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


@transaction.atomic
def launch_letter(*, letter: Letter) -> bool:
    """Make a founding letter public: its founding signatures are listed first, after notable ones."""
    letter = Letter.objects.select_for_update().get(pk=letter.pk)
    if letter.status != Letter.Status.FOUNDING:
        return False
    ensure_letter_version(letter=letter)
    letter.status = Letter.Status.OPEN
    letter.save(update_fields=["status", "updated_at"])
    return True


def launch_due_letters() -> list[Letter]:
    """
    Launch every founding letter whose launch time has passed. Readers see
    such a letter as open already (`Letter.objects.public()`); this makes the
    status say so too. Run by `manage.py launch_due_letters` or any scheduler.
    """
    return [letter for letter in Letter.objects.launch_due().order_by("pk") if launch_letter(letter=letter)]


@transaction.atomic
def record_letter_delivery(
    *, letter: Letter, delivered_at: datetime | None, delivered_how: str, by: AbstractBaseUser | None = None
) -> Letter:
    """Record when and how the letter reached its addressee, with the count, text and list delivered."""
    letter = Letter.objects.select_for_update().get(pk=letter.pk)
    letter.delivered_at = delivered_at
    letter.delivered_how = delivered_how[:300]
    if delivered_at is None:
        letter.delivered_count = None
        letter.delivered_version = None
    else:
        letter.delivered_count = SignatureCounter.value_for(letter, SignatureCounter.PUBLIC)
        letter.delivered_version = ensure_letter_version(letter=letter)
    letter.save(update_fields=["delivered_at", "delivered_how", "delivered_count", "delivered_version", "updated_at"])
    # The names go with the count: a list anyone can check against its hash.
    return freeze_delivered_list(letter=letter)


# --- abuse defences and privacy ---------------------------------------------


def blocklist_reason(email_normalized: str) -> str:
    """The CaughtSubmission reason if organizers blocked this address or its domain, else ''."""
    from .models import CaughtSubmission

    if organizer_data.is_blocked_address(email_normalized):
        return CaughtSubmission.Reason.BLOCKED_ADDRESS
    domain = email_normalized.rpartition("@")[2]
    if domain and organizer_data.is_blocked_domain(limits.domain_and_parents(domain)):
        return CaughtSubmission.Reason.BLOCKED_DOMAIN
    return ""


@transaction.atomic
def record_caught_submission(*, letter: Letter, reason: str) -> None:
    """Tally a dropped sign attempt (bot or blocklist) for organizers; nothing about it is kept."""
    from .models import CaughtSubmission

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
def drop_old_ip_hashes(*, now: datetime | None = None) -> int:
    """Blank the IP hash of signatures older than SIGNATURES_IP_HASH_RETENTION_DAYS; return how many."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.SIGNATURES_IP_HASH_RETENTION_DAYS)
    # ip_hash feeds no counter, so a bulk update keeps the counters exact.
    return Signature.objects.filter(created_at__lt=cutoff).exclude(ip_hash="").update(ip_hash="")


@transaction.atomic
def erase_address(*, email: str) -> dict[str, int]:
    """
    Erase every trace of an email address, on request of its owner: their
    signatures on every letter (counters kept exact), the emails queued or
    sent to them, their name in the admin's history, blocklist entries and
    admin login attempts under that name. Returns how many rows each kind lost.
    """
    from django.apps import apps
    from django.contrib.admin.models import LogEntry
    from django.contrib.contenttypes.models import ContentType

    from .models import BlockedAddress

    address = normalize_email(email)
    erased: Counter[str] = Counter()
    if not address:
        return {}
    locked = Signature.objects.select_for_update().order_by("pk")
    # The typed address too, in case an older normalisation left it apart.
    signatures = list(locked.filter(Q(email_normalized=address) | Q(email__iexact=address)))
    for signature in signatures:
        keys_before = counter_keys(signature)
        letter_id = signature.letter_id
        deltas: Counter[str] = Counter(dict.fromkeys(keys_before, -1))
        # The admin's history keeps its record of moderation, without the name.
        LogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(Signature), object_id=str(signature.pk)
        ).update(object_repr=f"Erased signature #{signature.pk}")
        # Rows that point at the signature (queued emails, say) go with it.
        signature.delete()
        _apply_counter_deltas(letter_id, deltas)
        erased["signatures"] += 1
    erased["blocked addresses"] += BlockedAddress.objects.filter(email_normalized=address).delete()[0]
    # Any other table of ours that keeps an address (a queued email, say).
    for model in apps.get_app_config("signatures").get_models():
        if model in (Signature, BlockedAddress):
            continue
        for field in model._meta.concrete_fields:
            if isinstance(field, EmailField) or field.name in ("to_email", "email", "email_normalized"):
                count = model._default_manager.filter(**{f"{field.name}__iexact": address}).delete()[0]
                if count:
                    erased[str(model._meta.verbose_name_plural)] += count
    if apps.is_installed("axes"):
        from axes.models import AccessAttempt, AccessFailureLog, AccessLog

        for model in (AccessAttempt, AccessFailureLog, AccessLog):
            erased["admin login records"] += model.objects.filter(username__iexact=address).delete()[0]
    return {key: value for key, value in erased.items() if value}


# --- the email queue, withdrawal and retention ------------------------------


@transaction.atomic
def retry_failed_emails(*, email_ids: Iterable[int]) -> int:
    """Queue failed emails again (an organizer's decision), with a fresh run of attempts and the same Message-ID."""
    from . import outbox
    from .models import OutgoingEmail

    retried = 0
    # Rows a worker or another organizer holds right now are left to them.
    failed = OutgoingEmail.objects.select_for_update(skip_locked=True).filter(
        pk__in=list(email_ids), status=OutgoingEmail.Status.FAILED
    )
    for email in failed.order_by("pk"):
        email.status = OutgoingEmail.Status.QUEUED
        email.attempts = 0
        email.next_attempt_at = timezone.now()
        email.task_id = outbox.enqueue_task(email.message_id)
        email.save(update_fields=["status", "attempts", "next_attempt_at", "task_id"])
        retried += 1
    return retried


@transaction.atomic
def request_withdrawal(*, letter: Letter, email: str) -> bool:
    """Email a withdrawal link if this address signed this letter; the page answers the same either way."""
    signature = (
        Signature.objects.select_for_update()
        .select_related("letter")
        .filter(letter=letter, email_normalized=normalize_email(email))
        .exclude(state=State.WITHDRAWN)
        .first()
    )
    if signature is None:
        return False
    # Capped per address per letter like every email anyone can trigger.
    return emails.send_withdrawal_link(signature) is not None


# Everything a signature says about its signer. A withdrawn signature keeps
# only what the counts and the moderation record need: its letter, state,
# timestamps and profession.
ERASED_ON_WITHDRAWAL = {
    "full_name": "",
    "email": "",
    "email_normalized": "",
    "email_domain": "",
    "title": "",
    "affiliation": "",
    "city": "",
    "country": "",
    "comment": "",
    "ip_hash": "",
    "rejection_reason": "",
    "wants_listing": False,
    "is_notable": False,
}


def _erase_signer(signature: Signature, keys_before: set[str]) -> None:
    """Erase the signer's data from a withdrawn signature and from every row that copied it."""
    from django.contrib.admin.models import LogEntry
    from django.contrib.contenttypes.models import ContentType

    for field, value in ERASED_ON_WITHDRAWAL.items():
        setattr(signature, field, value)
    _save_counted(signature, keys_before)
    # Queued and sent emails hold the address, the name and the links.
    signature.outgoing_emails.all().delete()
    # The admin's history names the signature ("Agnès Varda (Approved)").
    LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Signature), object_id=str(signature.pk)
    ).update(object_repr=str(signature))


@transaction.atomic
def withdraw_signature(*, token: str) -> Signature | None:
    """Withdraw by emailed link (POST only): off the list and the count, the signer's data erased for good."""
    pk = signature_id_from_token(token)
    if pk is None:
        return None
    signature = Signature.objects.select_for_update().select_related("letter").filter(pk=pk).first()
    if signature is None or signature.state == State.WITHDRAWN:
        return None
    if not check_token(signature, token, Purpose.WITHDRAW):
        return None
    keys_before = counter_keys(signature)
    signature.state = State.WITHDRAWN
    signature.withdrawn_at = timezone.now()
    _erase_signer(signature, keys_before)
    return signature


@transaction.atomic
def purge_expired_signatures(*, now: datetime | None = None) -> dict[str, int]:
    """
    Delete signatures never confirmed within SIGNATURES_UNCONFIRMED_RETENTION_DAYS
    (with their emails), and finish erasing withdrawn ones that still hold data.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.SIGNATURES_UNCONFIRMED_RETENTION_DAYS)
    purged = 0
    expired = Signature.objects.filter(state=State.SUBMITTED, created_at__lt=cutoff)
    while True:
        # Locked in id order; a confirmation racing the purge wins or waits.
        batch = list(expired.select_for_update().order_by("pk")[:1000])
        if not batch:
            break
        deltas: dict[int, Counter[str]] = {}
        for signature in batch:
            deltas.setdefault(signature.letter_id, Counter()).update(dict.fromkeys(counter_keys(signature), -1))
        Signature.objects.filter(pk__in=[signature.pk for signature in batch]).delete()
        for letter_id, letter_deltas in sorted(deltas.items()):
            _apply_counter_deltas(letter_id, letter_deltas)
        purged += len(batch)

    holds_data = Q(outgoing_emails__isnull=False)
    for field, value in ERASED_ON_WITHDRAWAL.items():
        holds_data |= ~Q(**{field: value})
    unfinished = Signature.objects.filter(state=State.WITHDRAWN).filter(holds_data).values_list("pk", flat=True)
    erased = 0
    for signature in _locked(set(unfinished)):
        if signature.state == State.WITHDRAWN:
            _erase_signer(signature, counter_keys(signature))
            erased += 1
    return {"unconfirmed_deleted": purged, "withdrawn_erased": erased}

"""Moderators' decisions: approve, reject, verify, mark notable, invalidate in bulk, surges, failed emails."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django_tasks import task

from signatures import emails, outbox, text
from signatures.abuse import mail_budget
from signatures.abuse.lists import NameHold, name_hold
from signatures.models import (
    DigestSubscription,
    InvalidationRun,
    Letter,
    OutgoingEmail,
    Signature,
    SurgeFlag,
    WatchlistEntry,
)
from signatures.services import counting

State = Signature.State


INVALIDATABLE_STATES = (State.SUBMITTED, State.CONFIRMED, State.APPROVED)


def lock_in_id_order(signature_ids: Iterable[int]) -> list[Signature]:
    # Lock in id order so two moderators working the same rows cannot deadlock.
    return list(Signature.objects.select_for_update().filter(pk__in=list(signature_ids)).order_by("pk"))


@transaction.atomic
def approve_signatures(*, signature_ids: Iterable[int], moderator: User | None) -> int:
    """
    Approve confirmed signatures (held ones included): they count, and are
    listed if the signer agreed; signers of letters that ask for it are told.
    """
    now = timezone.now()
    approved = 0
    signatures = lock_in_id_order(signature_ids)
    notifying = set(
        Letter.objects.filter(
            pk__in={signature.letter_id for signature in signatures}, notifies_signers_when_counted=True
        ).values_list("pk", flat=True)
    )
    for signature in signatures:
        if signature.state != State.CONFIRMED:
            continue
        keys_before = signature.counter_keys()
        signature.state = State.APPROVED
        signature.approved_at = now
        signature.moderated_at = now
        signature.moderated_by = moderator
        counting.save_counted(signature, keys_before)
        if signature.letter_id in notifying:
            emails.send_signature_public(signature)
        approved += 1
    return approved


@transaction.atomic
def reject_signatures(
    *,
    signature_ids: Iterable[int],
    moderator: User | None,
    reason: str = "",
    category: str = Signature.RejectionCategory.OTHER,
) -> int:
    """Reject signatures that are not withdrawn: they leave the list and the count."""
    now = timezone.now()
    rejected = 0
    for signature in lock_in_id_order(signature_ids):
        if signature.state in (State.REJECTED, State.WITHDRAWN):
            continue
        keys_before = signature.counter_keys()
        signature.state = State.REJECTED
        signature.rejected_at = now
        signature.rejection_reason = reason[:300]
        signature.rejection_category = category
        signature.moderated_at = now
        signature.moderated_by = moderator
        counting.save_counted(signature, keys_before)
        rejected += 1
    return rejected


def _set_flag(signature_ids: Iterable[int], moderator: User | None, **changes: Any) -> int:
    now = timezone.now()
    changed = 0
    for signature in lock_in_id_order(signature_ids):
        if signature.state == State.WITHDRAWN:
            continue
        keys_before = signature.counter_keys()
        for field, value in changes.items():
            setattr(signature, field, value)
        signature.moderated_at = now
        signature.moderated_by = moderator
        counting.save_counted(signature, keys_before)
        changed += 1
    return changed


@transaction.atomic
def mark_verified(
    *, signature_ids: Iterable[int], moderator: User | None, is_verified: bool = True, method: str = ""
) -> int:
    """Record that a signer's identity was checked (or undo it)."""
    return _set_flag(
        signature_ids, moderator, is_verified=is_verified, verification_method=method if is_verified else ""
    )


@transaction.atomic
def mark_notable(*, signature_ids: Iterable[int], moderator: User | None, is_notable: bool = True) -> int:
    """Show signatures first on the public list (or stop doing so)."""
    return _set_flag(signature_ids, moderator, is_notable=is_notable)


@transaction.atomic
def verify_approve_and_mark_notable(*, signature_ids: Iterable[int], moderator: User | None, method: str) -> int:
    """A real notable person, checked: verified (how), approved if still awaiting a decision, shown first."""
    ids = list(signature_ids)
    approve_signatures(signature_ids=ids, moderator=moderator)
    # Rejected and withdrawn signatures stay as they are: no notable mark off the list.
    approved = Signature.objects.filter(pk__in=ids, state=State.APPROVED).values_list("pk", flat=True)
    return _set_flag(approved, moderator, is_verified=True, verification_method=method, is_notable=True)


# Signatures re-read per transaction when the watchlist changes: a million
# listed signatures are held in short transactions, not one long one.
RECHECK_BATCH = 1000
# Digits, and anything outside printable ASCII and the accented Latin letters
# (U+00A0-U+024F): look-alike letters of other scripts, full-width and
# mathematical letters, invisible characters. Accented Latin letters need no
# pass of their own: the name key folds them, so the word prefilter sees them.
DISGUISED_NAME = "[^ -~\u00a0-\u024f]|[0-9]"


def recheck_candidates(entry: WatchlistEntry) -> Q:
    """
    A cheap SQL prefilter before the matcher: names that share a word with
    the entry (or an alias), or that carry digits or non-ASCII characters.
    What it lets through is then read by the matcher; a disguise that
    changes every word using plain ASCII letters only ('Rneryl Streeep') is
    the one kind it misses, and confirmation still catches those.
    """
    words = {
        word for written in (entry.name, *entry.alias_list()) for word in re.findall(r"\w+", text.name_key(written))
    }
    long_words = {word for word in words if len(word) >= 3} or words
    query = Q(full_name__regex=DISGUISED_NAME)
    for word in sorted(long_words):
        query |= Q(name_key__contains=word)
    return query


def start_watchlist_recheck(*, entry: WatchlistEntry) -> None:
    """
    Re-read every letter against a new or changed watchlist entry, in the
    background once this commits: at millions of signatures the read takes
    longer than a web request may (the server's timeout would cut it short).
    """
    entry_id = entry.pk
    transaction.on_commit(lambda: recheck_watchlist_job.enqueue(entry_id))


@task()
def recheck_watchlist_job(entry_id: int) -> int:
    """The background job of `start_watchlist_recheck`; an entry deleted meanwhile holds nothing."""
    entry = WatchlistEntry.objects.filter(pk=entry_id).first()
    return 0 if entry is None else recheck_watchlist(entry=entry)


def recheck_watchlist(*, entry: WatchlistEntry) -> int:
    """
    After a watchlist entry is added or changed: hold every confirmed or
    approved signature, on every letter, whose name could be read as it.
    A listed one goes back to confirmed-and-held: off the public list and
    the count until a moderator decides. Verified signatures are left alone
    (a person already checked them). Returns how many were held.

    Not one transaction: batches by primary key, each in its own, so
    re-reading a million signatures never holds locks for minutes.
    """
    entries = [(entry.pk, entry.name, tuple(entry.alias_list()))]
    candidates = (
        Signature.objects.filter(state__in=[State.CONFIRMED, State.APPROVED], is_verified=False)
        .exclude(state=State.CONFIRMED, hold_reason=Signature.HoldReason.WATCHLIST)
        .filter(recheck_candidates(entry))
        .order_by("pk")
    )
    held = 0
    last_pk = 0
    while True:
        batch = list(candidates.filter(pk__gt=last_pk).values_list("pk", "full_name")[:RECHECK_BATCH])
        if not batch:
            return held
        last_pk = batch[-1][0]
        holds = {}
        for pk, full_name in batch:
            hold = name_hold(full_name, entries)
            if hold is not None and hold.reason == Signature.HoldReason.WATCHLIST:
                holds[pk] = hold
        if holds:
            held += hold_for_watchlist(holds=holds)


@transaction.atomic
def hold_for_watchlist(*, holds: dict[int, NameHold]) -> int:
    """Hold these signatures ({id: NameHold}) for review, moving their counters in the same transaction."""
    changes = counting.CounterChanges()
    held = 0
    for signature in lock_in_id_order(holds):
        if signature.state not in (State.CONFIRMED, State.APPROVED) or signature.is_verified:
            continue  # decided or withdrawn since it was read
        keys_before = signature.counter_keys()
        hold = holds[signature.pk]
        signature.state = State.CONFIRMED
        signature.approved_at = None
        signature.hold_reason = hold.reason
        signature.hold_detail = hold.detail
        signature.held_for_entry_id = hold.entry_id
        signature.save(update_fields=["state", "approved_at", "hold_reason", "hold_detail", "held_for_entry"])
        changes.moved(signature, keys_before)
        held += 1
    changes.apply()
    return held


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
    signature_ids: list[int], moderator: User | None, reason: str, chunk_size: int = 1000
) -> tuple[int, int]:
    """Reject many signatures in a few queries; counters move by the deltas `counting.save_counted` would apply."""
    now = timezone.now()
    rejected = public = 0
    for start in range(0, len(signature_ids), chunk_size):
        changes = counting.CounterChanges()
        changed = []
        for signature in lock_in_id_order(signature_ids[start : start + chunk_size]):
            if signature.state not in INVALIDATABLE_STATES:
                continue
            keys_before = signature.counter_keys()
            public += signature.state == State.APPROVED
            signature.state = State.REJECTED
            signature.rejected_at = now
            signature.rejection_reason = reason[:300]
            # Bulk invalidation removes floods and fakes: the public ledger counts them as fraudulent.
            signature.rejection_category = Signature.RejectionCategory.FRAUD
            signature.moderated_at = now
            signature.moderated_by = moderator
            changes.moved(signature, keys_before)
            changed.append(signature)
        Signature.objects.bulk_update(
            changed,
            ["state", "rejected_at", "rejection_reason", "rejection_category", "moderated_at", "moderated_by"],
        )
        changes.apply()
        rejected += len(changed)
    return rejected, public


@transaction.atomic
def invalidate_signatures(
    *,
    letter: Letter,
    moderator: User | None,
    reason: str = "",
    email_domain: str = "",
    ip_hash: str = "",
    name_pattern: str = "",
    created_from: datetime | None = None,
    created_until: datetime | None = None,
    previewed_count: int = 0,
) -> InvalidationRun:
    """Reject every pending, confirmed or approved signature matching the criteria, and record who did it."""
    criteria: dict[str, Any] = {
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
def review_surge_flags(*, flag_ids: Iterable[int], moderator: User | None) -> int:
    """Close flags a moderator has looked at; a surge that goes on afterwards raises a new one."""
    return SurgeFlag.objects.filter(pk__in=list(flag_ids), reviewed_at__isnull=True).update(
        reviewed_at=timezone.now(), reviewed_by=moderator
    )


@transaction.atomic
def set_digest_subscription(*, user: User, is_subscribed: bool) -> None:
    """Opt a staff member in to (or out of) the daily moderation digest email."""
    if is_subscribed:
        DigestSubscription.objects.get_or_create(user=user)
    else:
        DigestSubscription.objects.filter(user=user).delete()


@transaction.atomic
def retry_failed_emails(*, email_ids: Iterable[int]) -> int:
    """Queue failed emails again (an organizer's decision), with a fresh run of attempts and the same Message-ID."""

    retried = 0
    # Rows a worker or another organizer holds right now are left to them.
    failed = OutgoingEmail.objects.select_for_update(skip_locked=True).filter(
        pk__in=list(email_ids), status=OutgoingEmail.Status.FAILED
    )
    for email in failed.order_by("pk"):
        email.status = OutgoingEmail.Status.QUEUED
        email.attempts = 0
        email.next_attempt_at = timezone.now()
        email.save(update_fields=["status", "attempts", "next_attempt_at"])
        outbox.send_after_commit(email)
        retried += 1
    return retried


@transaction.atomic
def release_held_emails(*, signature_ids: Iterable[int]) -> int:
    """
    Send the emails held back when these signatures' attempts tripped an abuse
    limit (a moderator judged them real). The signatures stay held for review:
    confirming does not approve them. The recipient domain's budget still applies.
    """
    released = 0
    held = OutgoingEmail.objects.select_for_update(skip_locked=True).filter(
        signature_id__in=list(signature_ids), status=OutgoingEmail.Status.HELD
    )
    for email in held.order_by("pk"):
        email.status = OutgoingEmail.Status.QUEUED
        email.next_attempt_at = mail_budget.send_at(ip_address=None, to_email=email.to_email)
        email.save(update_fields=["status", "next_attempt_at"])
        outbox.send_after_commit(email)
        released += 1
    return released

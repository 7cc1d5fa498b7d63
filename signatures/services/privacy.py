"""Withdrawal, erasure on request and retention: the signer's data goes when it must."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from functools import partial

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.apps import apps
from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import EmailField, Q
from django.utils import timezone

from signatures import emails
from signatures.caching import pages as page_cache
from signatures.models import (
    BlockedAddress,
    Letter,
    OutgoingEmail,
    Signature,
)
from signatures.services import counting
from signatures.services.moderation import lock_in_id_order
from signatures.text import normalize_email
from signatures.tokens import Purpose, check_token, signature_id_from_token

State = Signature.State


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

    address = normalize_email(email)
    erased: Counter[str] = Counter()
    if not address:
        return {}
    locked = Signature.objects.select_for_update().order_by("pk")
    # The typed address too, in case an older normalisation left it apart.
    signatures = list(locked.filter(Q(email_normalized=address) | Q(email__iexact=address)))
    changes = counting.CounterChanges()
    for signature in signatures:
        changes.removed(signature)
        # The admin's history keeps its record of moderation, without the name.
        LogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(Signature), object_id=str(signature.pk)
        ).update(object_repr=f"Erased signature #{signature.pk}")
        # Rows that point at the signature (queued emails, say) go with it.
        signature.delete()
        erased["signatures"] += 1
    changes.apply()
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
        for model in (AccessAttempt, AccessFailureLog, AccessLog):
            erased["admin login records"] += model.objects.filter(username__iexact=address).delete()[0]
    return {key: value for key, value in erased.items() if value}


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
    "wants_updates": False,
    "is_notable": False,
    # Answers to the letter's own questions ("Member number") are the signer's data too.
    "answers": {},
}


def _erase_signer(signature: Signature, keys_before: set[str]) -> None:
    """Erase the signer's data from a withdrawn signature and from every row that copied it."""

    for field, value in ERASED_ON_WITHDRAWAL.items():
        setattr(signature, field, value)
    counting.save_counted(signature, keys_before)
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
    keys_before = signature.counter_keys()
    signature.state = State.WITHDRAWN
    signature.withdrawn_at = timezone.now()
    _erase_signer(signature, keys_before)
    # Once the erasure is committed, no kept page may show the name again.
    transaction.on_commit(partial(page_cache.forget_letter_pages, slug=signature.letter.slug))
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
        changes = counting.CounterChanges()
        for signature in batch:
            changes.removed(signature)
        Signature.objects.filter(pk__in=[signature.pk for signature in batch]).delete()
        changes.apply()
        purged += len(batch)

    holds_data = Q(outgoing_emails__isnull=False)
    for field, value in ERASED_ON_WITHDRAWAL.items():
        holds_data |= ~Q(**{field: value})
    unfinished = Signature.objects.filter(state=State.WITHDRAWN).filter(holds_data).values_list("pk", flat=True)
    erased = 0
    for signature in lock_in_id_order(set(unfinished)):
        if signature.state == State.WITHDRAWN:
            _erase_signer(signature, signature.counter_keys())
            erased += 1
    # Mail held for a moderator who never released it: an unconfirmed held
    # signer's went with the signature above; what is left (a repeat attempt
    # on a known address) would carry a dead link by now.
    held_deleted, _ = OutgoingEmail.objects.held().filter(created_at__lt=cutoff).delete()
    return {"unconfirmed_deleted": purged, "withdrawn_erased": erased, "held_emails_deleted": held_deleted}

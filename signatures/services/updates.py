"""
Updates to signers: organizers publish news about a letter, and email it to
the signers who asked for it, through the outbox, with a one-click
unsubscribe in every message.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django_tasks import task
from django_tasks_db.backend import DatabaseBackend

from signatures import emails, outbox
from signatures.models import LetterUpdate, OutgoingEmail, Signature, SignatureQuerySet, SuppressedAddress
from signatures.tokens import Purpose, check_token, signature_id_from_token


@transaction.atomic
def publish_letter_update(*, update: LetterUpdate) -> bool:
    """Show the update under the letter (emails nobody); False if it was already published."""
    now = timezone.now()
    changed = LetterUpdate.objects.filter(pk=update.pk, published_at__isnull=True).update(published_at=now)
    if changed:
        update.published_at = now
    return bool(changed)


@transaction.atomic
def request_letter_update_sending(*, update: LetterUpdate) -> bool:
    """
    Publish the update and ask the worker to email it to the signers who want
    updates; False if that was asked for already. The request and its task
    commit together, so an accepted request is never lost (and
    `manage.py send_letter_updates` picks up any whose worker died).
    """
    locked = LetterUpdate.objects.select_for_update().get(pk=update.pk)
    if locked.send_requested_at is not None:
        return False
    now = timezone.now()
    locked.published_at = locked.published_at or now
    locked.send_requested_at = now
    locked.save(update_fields=["published_at", "send_requested_at"])
    update.published_at, update.send_requested_at = locked.published_at, locked.send_requested_at
    if isinstance(deliver_letter_update.get_backend(), DatabaseBackend):
        deliver_letter_update.enqueue(update.pk)
    else:
        # A backend outside our database cannot roll back with us: wait for the commit.
        transaction.on_commit(lambda: deliver_letter_update.enqueue(update.pk))
    return True


def update_recipients(update: LetterUpdate) -> SignatureQuerySet:
    """Signers of the update's letter who want updates, are not suppressed and have not had this one queued."""
    return (
        Signature.objects.wanting_updates()
        .filter(letter_id=update.letter_id)
        .filter(~Exists(SuppressedAddress.objects.filter(email_normalized=OuterRef("email_normalized"))))
        .filter(~Exists(OutgoingEmail.objects.filter(update_id=update.pk, signature_id=OuterRef("pk"))))
        .order_by("pk")
    )


def send_letter_update(*, update: LetterUpdate, limit: int | None = None, batch_size: int | None = None) -> int:
    """
    Queue the update for every signer who wants it, in batches of
    SIGNATURES_UPDATE_BATCH_SIZE, each in its own short transaction (not one:
    100,000 rows in one transaction would hold locks and bloat for minutes,
    and a crash would lose all of it). Resumable: a signer who already has
    the update queued is skipped, and a unique constraint on (update,
    signature) backs that, so nobody gets it twice. Stops after `limit`
    emails if given; returns how many it queued. Marks the update sent once
    nobody is left.
    """
    batch_size = batch_size or settings.SIGNATURES_UPDATE_BATCH_SIZE
    queued = 0
    last_pk = 0
    while limit is None or queued < limit:
        size = batch_size if limit is None else min(batch_size, limit - queued)
        with transaction.atomic():
            # The row lock keeps two runs (the task and a cron resume) from queuing the same batch.
            locked = (
                LetterUpdate.objects.select_for_update()
                .select_related("letter")
                .filter(pk=update.pk, send_requested_at__isnull=False, sent_at__isnull=True)
                .first()
            )
            if locked is None:
                break  # not asked for, or done already
            batch = list(update_recipients(locked).filter(pk__gt=last_pk)[:size])
            if not batch:
                locked.sent_at = timezone.now()
                locked.save(update_fields=["sent_at"])
                update.sent_at = locked.sent_at
                break
            for signature in batch:
                signature.letter = locked.letter  # one letter for the whole batch, not a query each
                emails.send_letter_update(signature, update=locked)
            queued += len(batch)
            last_pk = batch[-1].pk
    return queued


@task()
def deliver_letter_update(update_id: int) -> int:
    """The background job behind the admin's "send to signers": queue every email of one update."""
    update = LetterUpdate.objects.filter(pk=update_id).first()
    return send_letter_update(update=update) if update is not None else 0


def send_requested_letter_updates() -> int:
    """Finish every update whose sending was asked for and not completed (after a crash); emails queued."""
    pending = LetterUpdate.objects.filter(send_requested_at__isnull=False, sent_at__isnull=True).order_by("pk")
    return sum(send_letter_update(update=update) for update in pending)


def send_letter_update_test(*, update: LetterUpdate, user: User) -> bool:
    """Send the update, as signers will get it, to the organizer's own staff email; False if it has none."""
    to_email = getattr(user, "email", "")
    if not to_email:
        return False
    return outbox.send_now(emails.letter_update_test(update, to_email=to_email))


@transaction.atomic
def unsubscribe_from_updates(*, token: str) -> Signature | None:
    """Stop updates for one signature at once (link or RFC 8058 one-click POST); None if the link is bad."""
    pk = signature_id_from_token(token)
    if pk is None:
        return None
    signature = Signature.objects.select_for_update().select_related("letter").filter(pk=pk).first()
    if signature is None or not check_token(signature, token, Purpose.UNSUBSCRIBE):
        return None
    if signature.wants_updates:
        signature.wants_updates = False
        signature.save(update_fields=["wants_updates"])
    # Emails of this signer still queued for an update are not sent either.
    OutgoingEmail.objects.filter(
        signature=signature, kind=OutgoingEmail.Kind.LETTER_UPDATE, status=OutgoingEmail.Status.QUEUED
    ).update(status=OutgoingEmail.Status.SUPPRESSED)
    return signature

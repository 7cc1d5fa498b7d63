"""
The outbox: emails to signers are rows (`OutgoingEmail`) written in the same
transaction as the signature change they are about; a worker sends them.

- `put` saves a new email and enqueues its task in the caller's transaction.
- `deliver` (the `send_email` task, run by `manage.py db_worker`) claims one
  email, sends it over SMTP outside any transaction, and records the outcome:
  sent; or queued again with exponential backoff while the mail server is
  down or answers 4xx; or failed — at once for a permanent refusal of the
  recipient or the message (5xx), else after SIGNATURES_EMAIL_MAX_ATTEMPTS.
- After a successful send, the same task `drain`s the queue: it claims the
  other due emails a few at a time, sends them on the same connection and
  drops their own (now pointless) tasks, for up to DRAIN_SECONDS.
- `requeue_stalled` is the safety net (`manage.py requeue_emails`): it
  enqueues a task again for emails that are due but whose task was lost, for
  example to a worker killed in the middle of a send.

Delivery is at least once. A claim is a lease (`claimed_until`): a worker
killed after the mail server accepted a message but before it recorded
"sent" leaves the email claimed; once the lease runs out it is sent again,
with the same Message-ID, so mail clients show it once.
"""

from __future__ import annotations

import contextlib
import logging
import random
import smtplib
import time
from datetime import datetime, timedelta
from email.utils import formatdate
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import DatabaseError, transaction
from django.db.models import F, Q
from django.dispatch import receiver
from django.utils import timezone
from django_tasks import task
from django_tasks.signals import task_started
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.models import DBTaskResult

from signatures.email_rendering import render_email
from signatures.models import OutgoingEmail

logger = logging.getLogger(__name__)

Status = OutgoingEmail.Status

SENT = "sent"
RETRY = "retry"
FAILED = "failed"
SKIPPED = "skipped"

_ERROR_LENGTH = 1000
_REQUEUE_BATCH = 500


@task()
def send_email(message_id: str) -> str:
    """Send one queued email; `deliver` schedules its own retries, so this never raises for SMTP."""
    return deliver(message_id)


@receiver(task_started)
def _worker_commits_without_waiting_for_disk(sender: Any, **kwargs: Any) -> None:
    # Only in the database worker (`manage.py db_worker`), never a web process.
    if isinstance(sender, DatabaseBackend) or (isinstance(sender, type) and issubclass(sender, DatabaseBackend)):
        relax_commit_durability()


def build_message(email: OutgoingEmail) -> EmailMultiAlternatives:
    """The message as it goes over SMTP, the same bytes on every attempt but for the transport headers."""
    subject, text, html = render_email(email)
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=email.from_email,
        to=[email.to_email],
        reply_to=[email.reply_to] if email.reply_to else None,
        headers={
            "Message-ID": email.message_id,
            # When the message was written, so a resend is identical to the first send.
            "Date": formatdate(email.created_at.timestamp()),
            "Auto-Submitted": "auto-generated",
        },
    )
    if html:
        message.attach_alternative(html, "text/html")
    return message


def enqueue_task(message_id: str, *, run_after: datetime | None = None) -> str:
    """Ask a worker to send an email; return the task's id when the backend keeps one."""
    task = send_email
    backend = task.get_backend()
    if run_after is not None:
        if not backend.supports_defer:
            return ""  # `requeue_stalled` enqueues it once it is due.
        task = task.using(run_after=run_after)
    if isinstance(backend, DatabaseBackend):
        # The task row is written in the caller's transaction: both commit, or neither.
        return str(task.enqueue(message_id).id)
    # A backend outside our database cannot roll back with us (the immediate
    # one would even send before the signature exists): wait for the commit.
    transaction.on_commit(lambda: task.enqueue(message_id))
    return ""


def put(email: OutgoingEmail) -> OutgoingEmail:
    """Save a new email and enqueue its sending, atomically with the caller's transaction."""
    if not transaction.get_connection().in_atomic_block:
        with transaction.atomic():
            return put(email)
    # The task is keyed by the Message-ID, so the row is written once, with its task id.
    email.task_id = enqueue_task(email.message_id)
    email.save(force_insert=True)
    return email


_relaxed_connection: int | None = None


def relax_commit_durability() -> None:
    """
    Let the worker's commits return before PostgreSQL flushes them to disk
    (synchronous_commit off, for this session only). The worker writes only
    progress marks (claimed, sent, retry at); a database crash losing the last
    few of them means at worst an email sent again with the same Message-ID.
    Signatures and the emails themselves are written by web requests, durably.
    """
    global _relaxed_connection  # noqa: PLW0603 (one flag per process)
    db = transaction.get_connection()
    if db.vendor != "postgresql":
        return
    try:
        db.ensure_connection()
        if _relaxed_connection == id(db.connection):
            return
        with db.cursor() as cursor:
            cursor.execute("SET synchronous_commit TO OFF")
    except DatabaseError:
        # Only a speed-up: without it the worker is slower, not wrong.
        logger.warning("Could not turn off synchronous_commit for the worker", exc_info=True)
        return
    _relaxed_connection = id(db.connection)


def _claimable(now: datetime) -> Q:
    return Q(status=Status.QUEUED, next_attempt_at__lte=now) | Q(status=Status.SENDING, claimed_until__lt=now)


def deliver(message_id: str) -> str:
    """Send one queued email if it is due and nobody else is sending it; return what happened."""
    now = timezone.now()
    lease = timedelta(seconds=settings.SIGNATURES_EMAIL_CLAIM_SECONDS)
    # One UPDATE checks and claims: of two workers, only one gets a row back
    # (on PostgreSQL the second waits for the row lock, then sees it claimed).
    claimed = OutgoingEmail.objects.filter(_claimable(now), message_id=message_id).update(
        status=Status.SENDING, attempts=F("attempts") + 1, claimed_until=now + lease, last_attempt_at=now
    )
    email = OutgoingEmail.objects.filter(message_id=message_id).first() if claimed else None
    if email is None:
        return SKIPPED  # sent, failed, withdrawn, not due yet, or another worker has it
    outcome = _send_and_record(email)
    if outcome == SENT and _is_database_worker():
        try:
            drain()
        except DatabaseError:
            # Emails claimed and not sent are taken over when their claim runs out.
            logger.exception("Draining the email queue stopped early")
    return outcome


def _send_and_record(email: OutgoingEmail) -> str:
    try:
        _send(email)
    except Exception as exc:
        return _record_failure(email, exc)
    OutgoingEmail.objects.filter(pk=email.pk, status=Status.SENDING).update(
        status=Status.SENT, sent_at=timezone.now(), claimed_until=None, last_error=""
    )
    return SENT


def _is_database_worker() -> bool:
    return isinstance(send_email.get_backend(), DatabaseBackend)


DRAIN_CHUNK = 20
DRAIN_SECONDS = 10.0


def drain(*, seconds: float = DRAIN_SECONDS) -> int:
    """
    While the mail server answers, send the other emails that are due, a few
    at a time, on the same connection; return how many were sent. Their own
    tasks are dropped as they are claimed, so the worker does not run a task
    per email only to find it sent: on a busy day that is most of its work.
    """
    started = time.monotonic()
    sent = 0
    while time.monotonic() - started < seconds:
        batch = _claim_batch(DRAIN_CHUNK)
        if not batch:
            break
        for email in batch:
            # Each is recorded as it goes, so a crash resends at most one.
            sent += _send_and_record(email) == SENT
    return sent


def _claim_batch(limit: int) -> list[OutgoingEmail]:
    now = timezone.now()
    claimed_until = now + timedelta(seconds=settings.SIGNATURES_EMAIL_CLAIM_SECONDS)
    with transaction.atomic():
        # Rows another worker is claiming are skipped, not waited for.
        rows = list(
            OutgoingEmail.objects.select_for_update(skip_locked=True)
            .filter(_claimable(now))
            .order_by("next_attempt_at", "pk")
            .values_list("pk", "task_id")[:limit]
        )
        if not rows:
            return []
        pks = [pk for pk, _ in rows]
        OutgoingEmail.objects.filter(_claimable(now), pk__in=pks).update(
            status=Status.SENDING, attempts=F("attempts") + 1, claimed_until=claimed_until, last_attempt_at=now
        )
        # A task the worker has already taken (RUNNING) is left; it will find its email claimed.
        DBTaskResult.objects.filter(id__in=[task_id for _, task_id in rows if task_id], status="READY").delete()
    return list(OutgoingEmail.objects.filter(pk__in=pks, status=Status.SENDING, claimed_until=claimed_until))


class _Mailer:
    """
    One mail server connection per worker process, reused from one email to
    the next: connecting, TLS and login cost more than sending a message.
    Dropped after an error, when idle, or when the settings change.
    """

    IDLE_SECONDS = 30

    def __init__(self) -> None:
        self.backend: Any = None
        self.settings_key: tuple[Any, ...] = ()
        self.last_used = 0.0

    def close(self) -> None:
        backend, self.backend = self.backend, None
        if backend is not None:
            with contextlib.suppress(Exception):  # the server may be gone already
                backend.close()

    def send(self, message: EmailMultiAlternatives) -> None:
        key = tuple(getattr(settings, name, None) for name in _EMAIL_SETTINGS)
        if self.backend is not None and (
            key != self.settings_key or time.monotonic() - self.last_used > self.IDLE_SECONDS
        ):
            self.close()
        reused = self.backend is not None
        try:
            try:
                self._send(message, key)
            except (smtplib.SMTPServerDisconnected, ConnectionError):
                if not reused:
                    raise
                # The server closed a connection we kept: open a new one, once.
                self.close()
                self._send(message, key)
        except Exception:
            self.close()
            raise
        self.last_used = time.monotonic()

    def _send(self, message: EmailMultiAlternatives, key: tuple[Any, ...]) -> None:
        if self.backend is None:
            self.backend = get_connection(fail_silently=False)
            self.settings_key = key
            # Opened here, so send_messages() leaves it open for the next email.
            self.backend.open()
        if self.backend.send_messages([message]) != 1:
            raise smtplib.SMTPException("The mail backend did not send the message.")


_EMAIL_SETTINGS = (
    "EMAIL_BACKEND",
    "EMAIL_HOST",
    "EMAIL_PORT",
    "EMAIL_HOST_USER",
    "EMAIL_HOST_PASSWORD",
    "EMAIL_USE_TLS",
    "EMAIL_USE_SSL",
    "EMAIL_TIMEOUT",
)
_mailer = _Mailer()


def _send(email: OutgoingEmail) -> None:
    # No transaction is open here: a slow mail server holds no lock.
    _mailer.send(build_message(email))


def is_permanent(exc: BaseException) -> bool:
    """A refusal that retrying cannot change: a 5xx for the recipient or for the message itself."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return bool(exc.recipients) and all(code >= 500 for code, _ in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPDataError):
        return exc.smtp_code >= 500
    return False


def describe(exc: BaseException) -> str:
    """The error for organizers, without the recipient's address."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        reasons = "; ".join(
            f"{code} {reply.decode(errors='replace') if isinstance(reply, bytes) else reply}"
            for code, reply in exc.recipients.values()
        )
        return f"Recipient refused: {reasons}"[:_ERROR_LENGTH]
    if isinstance(exc, smtplib.SMTPResponseException):
        reply = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else exc.smtp_error
        return f"{type(exc).__name__}: {exc.smtp_code} {reply}"[:_ERROR_LENGTH]
    return f"{type(exc).__name__}: {exc}"[:_ERROR_LENGTH]


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff: the first retry after SIGNATURES_EMAIL_RETRY_SECONDS, doubling up to a cap."""
    delay = settings.SIGNATURES_EMAIL_RETRY_SECONDS * 2 ** min(max(attempts - 1, 0), 20)
    delay = min(delay, settings.SIGNATURES_EMAIL_RETRY_MAX_SECONDS)
    # A little jitter, so emails that failed together do not all retry in the same second.
    return timedelta(seconds=delay * random.uniform(0.9, 1.1))  # noqa: S311 (not a secret)


def _record_failure(email: OutgoingEmail, exc: BaseException) -> str:
    error = describe(exc)
    mine = OutgoingEmail.objects.filter(pk=email.pk, status=Status.SENDING)
    # Only the class and the row id reach the logs: an SMTP reply may quote the address.
    if is_permanent(exc) or email.attempts >= settings.SIGNATURES_EMAIL_MAX_ATTEMPTS:
        mine.update(status=Status.FAILED, claimed_until=None, last_error=error)
        logger.warning(
            "Email %s (%s) failed after %d attempt(s): %s", email.pk, email.kind, email.attempts, type(exc).__name__
        )
        return FAILED
    next_attempt_at = timezone.now() + retry_delay(email.attempts)
    with transaction.atomic():
        if mine.update(status=Status.QUEUED, next_attempt_at=next_attempt_at, claimed_until=None, last_error=error):
            task_id = enqueue_task(email.message_id, run_after=next_attempt_at)
            OutgoingEmail.objects.filter(pk=email.pk).update(task_id=task_id)
    logger.info(
        "Email %s (%s) attempt %d failed (%s); retrying at %s",
        email.pk,
        email.kind,
        email.attempts,
        type(exc).__name__,
        next_attempt_at.isoformat(timespec="seconds"),
    )
    return RETRY


def _waiting_task_ids(task_ids: list[str]) -> set[str]:
    """Which of these tasks are still waiting for a worker."""
    ids = [task_id for task_id in task_ids if task_id]
    if not ids:
        return set()
    waiting = DBTaskResult.objects.filter(id__in=ids, status="READY").values_list("id", flat=True)
    return {str(task_id) for task_id in waiting}


def requeue_stalled(*, now: datetime | None = None) -> int:
    """Enqueue a task again for each email that is due but has no task waiting; return how many."""
    now = now or timezone.now()
    requeued = 0
    last_pk = 0
    while True:
        with transaction.atomic():
            # Skip rows another sweeper or worker holds; they are being handled.
            batch = list(
                OutgoingEmail.objects.select_for_update(skip_locked=True)
                .filter(_claimable(now), pk__gt=last_pk)
                .order_by("pk")
                .only("pk", "message_id", "task_id")[:_REQUEUE_BATCH]
            )
            if not batch:
                return requeued
            last_pk = batch[-1].pk
            waiting = _waiting_task_ids([email.task_id for email in batch])
            for email in batch:
                if email.task_id in waiting:
                    continue
                task_id = enqueue_task(email.message_id)
                OutgoingEmail.objects.filter(pk=email.pk).update(task_id=task_id)
                requeued += 1

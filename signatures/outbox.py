"""
The outbox: emails to signers are rows (`OutgoingEmail`) written in the same
transaction as the signature change they are about; a worker sends them.
One row per email: the row is the queue, there is no task beside it.

- `put` saves a new email in the caller's transaction. One whose content
  follows from its signature is saved unwritten and written (and stored)
  just before its first send (`signatures.email_rendering`). A held email (its
  sign attempt tripped an abuse limit) waits for a moderator to release it;
  one a mail budget deferred waits for its `next_attempt_at`.
- Just before each send the overall mail budget is asked
  (`abuse.mail_budget.budget_allows`); when it is spent, `defer` hands the
  email back untried for the budget's next window.
- `run_worker` (`manage.py send_emails`) loops: it claims ONE due email with
  a conditional UPDATE (a lease of SIGNATURES_EMAIL_CLAIM_SECONDS on that
  email alone), sends it over SMTP outside any transaction, records the
  outcome, and goes on; when nothing is due it sleeps for the poll interval.
  The outcome: sent; or queued again with exponential backoff while the mail
  server is down or answers 4xx; or failed — at once for a permanent refusal
  of the recipient or the message (5xx), else after
  SIGNATURES_EMAIL_MAX_ATTEMPTS.
- The worker outlives the database: a lost connection is closed, the worker
  backs off and carries on once the database answers again.
- An email to an address on the suppression list (`is_suppressed`: it
  bounced hard or complained before) is marked "suppressed" instead of
  queued or sent, and never retried.

Delivery is at least once. A worker killed after the mail server accepted a
message but before it recorded "sent" leaves the email claimed; once its
lease runs out any worker sends it again, with the same Message-ID, so mail
clients show it once. That expiry is the whole recovery: no sweeper.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import random
import smtplib
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from email.utils import formatdate
from typing import Any

from anymail.exceptions import AnymailRecipientsRefused
from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import DatabaseError, InterfaceError, OperationalError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from signatures import email_rendering
from signatures.abuse import mail_budget
from signatures.models import OutgoingEmail, SuppressedAddress
from signatures.text import normalize_email

logger = logging.getLogger(__name__)

Status = OutgoingEmail.Status

SENT = "sent"
RETRY = "retry"
FAILED = "failed"
SKIPPED = "skipped"
SUPPRESSED = "suppressed"
DEFERRED = "deferred"

_ERROR_LENGTH = 1000


def build_message(email: OutgoingEmail) -> EmailMultiAlternatives:
    """The message as it goes over SMTP, the same bytes on every attempt but for the transport headers."""
    message = EmailMultiAlternatives(
        subject=email.subject,
        body=email.body_text,
        from_email=email.from_email,
        to=[email.to_email],
        reply_to=[email.reply_to] if email.reply_to else None,
        headers={
            "Message-ID": email.message_id,
            # When the message was written, so a resend is identical to the first send.
            "Date": formatdate(email.created_at.timestamp()),
            "Auto-Submitted": "auto-generated",
            # Per-message headers, such as an update's List-Unsubscribe (RFC 8058).
            **email.headers,
        },
    )
    if email.body_html:
        message.attach_alternative(email.body_html, "text/html")
    return message


def put(email: OutgoingEmail) -> OutgoingEmail:
    """Save a new email, atomically with the caller's transaction; a worker sends it."""
    if not transaction.get_connection().in_atomic_block:
        with transaction.atomic():
            return put(email)
    if is_suppressed(email.to_email):
        # Kept as a row, so organizers see why the signer got nothing; never sent, never retried.
        email.status = Status.SUPPRESSED
        email.save(force_insert=True)
        return email
    email.save(force_insert=True)
    send_after_commit(email)
    return email


def send_after_commit(email: OutgoingEmail) -> None:
    """An email just queued (or queued again): without a worker (tests, demos), send it once this commits."""
    if settings.SIGNATURES_EMAIL_SEND_ON_COMMIT:
        transaction.on_commit(functools.partial(deliver, email.message_id))


def send_now(email: OutgoingEmail) -> bool:
    """
    Send an unsaved message at once, in the caller's request: an organizer's
    test of an update, who waits for it and wants an error now, not a retry.
    False if the address is suppressed.
    """
    if is_suppressed(email.to_email):
        return False
    return get_connection(fail_silently=False).send_messages([build_message(email)]) == 1


def is_suppressed(address: str) -> bool:
    """
    True if the provider told us this address bounced hard, complained or
    unsubscribed from everything: writing to it again harms every other
    signer's chance of getting their confirmation into the inbox.
    """
    return SuppressedAddress.objects.filter(email_normalized=normalize_email(address)).exists()


def defer(email: OutgoingEmail, *, until: datetime) -> str:
    """Give a claimed email back, untried, to be sent at `until` (a mail budget is spent): not an attempt."""
    _mine(email).update(status=Status.QUEUED, next_attempt_at=until, claimed_until=None, attempts=F("attempts") - 1)
    return DEFERRED


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
    except (OperationalError, InterfaceError):
        raise  # the database is away: the worker loop waits for it
    except DatabaseError:
        # Only a speed-up: without it the worker is slower, not wrong.
        logger.warning("Could not turn off synchronous_commit for the worker", exc_info=True)
        return
    _relaxed_connection = id(db.connection)


def _claimable(now: datetime) -> Q:
    return Q(status=Status.QUEUED, next_attempt_at__lte=now) | Q(status=Status.SENDING, claimed_until__lt=now)


def _claim(pk: int, now: datetime) -> OutgoingEmail | None:
    """Take one email for this worker, if it is still due: of two workers, one UPDATE matches."""
    claimed_until = now + timedelta(seconds=settings.SIGNATURES_EMAIL_CLAIM_SECONDS)
    # On PostgreSQL a second worker waits for the first one's row lock, then
    # finds the row no longer claimable and updates nothing.
    claimed = OutgoingEmail.objects.filter(_claimable(now), pk=pk).update(
        status=Status.SENDING, attempts=F("attempts") + 1, claimed_until=claimed_until, last_attempt_at=now
    )
    if not claimed:
        return None
    return (
        OutgoingEmail.objects.select_related("signature__letter")
        .filter(pk=pk, status=Status.SENDING, claimed_until=claimed_until)
        .first()
    )


def deliver(message_id: str) -> str:
    """Send one queued email if it is due and nobody else is sending it; return what happened."""
    now = timezone.now()
    pk = OutgoingEmail.objects.filter(_claimable(now), message_id=message_id).values_list("pk", flat=True).first()
    email = _claim(pk, now) if pk is not None else None
    if email is None:
        return SKIPPED  # sent, failed, withdrawn, not due yet, or another worker has it
    return _send_and_record(email)


# How many due emails a worker looks at to find one to claim: when several
# workers race for the oldest, the losers take the next instead of waiting.
_CANDIDATES = 10


def deliver_next() -> str | None:
    """Claim the oldest due email, send it and record the outcome; None when nothing is due."""
    now = timezone.now()
    candidates = list(
        OutgoingEmail.objects.filter(_claimable(now))
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:_CANDIDATES]
    )
    for pk in candidates:
        email = _claim(pk, now)
        if email is not None:
            return _send_and_record(email)
    return SKIPPED if candidates else None


def _mine(email: OutgoingEmail) -> Any:
    # Only while our lease holds: a worker that ran past it leaves the row to its new owner.
    return OutgoingEmail.objects.filter(pk=email.pk, status=Status.SENDING, claimed_until=email.claimed_until)


def _send_and_record(email: OutgoingEmail) -> str:
    # Checked again just before sending: the address may have bounced since the email was queued.
    if is_suppressed(email.to_email):
        _mine(email).update(status=Status.SUPPRESSED, claimed_until=None)
        return SUPPRESSED
    # The overall budget is about the rate mail leaves, so it is asked here, at the send.
    if not mail_budget.budget_allows(email):
        return defer(email, until=mail_budget.overall_room_at())
    try:
        if not email.is_written and not _write_and_keep(email):
            return SKIPPED  # our lease ran out: the email is its new owner's
        _send(email)
    except Exception as exc:
        return _record_failure(email, exc)
    _mine(email).update(status=Status.SENT, sent_at=timezone.now(), claimed_until=None, last_error="")
    return SENT


DATABASE_BACKOFF_SECONDS = (0.5, 1.0, 2.0, 5.0)


def run_worker(
    *,
    stop: threading.Event,
    poll_seconds: float,
    until_idle: bool = False,
    heartbeat: Callable[[], object] | None = None,
) -> int:
    """
    Send emails until `stop` is set (or, with `until_idle`, until none is due);
    return how many were sent. `stop` is only looked at between emails, so the
    one being sent is finished and recorded first. `heartbeat` is called on
    every turn, waiting for the database included: the loop is alive.
    """
    sent = 0
    failures = 0
    while not stop.is_set():
        if heartbeat is not None:
            heartbeat()
        try:
            relax_commit_durability()
            outcome = deliver_next()
        except (OperationalError, InterfaceError):
            # A restart or a network blip: drop the broken connection, wait, try
            # again. Said once per outage; an email claimed when it happened
            # is sent again once its lease runs out.
            if not failures:
                logger.warning("The database is unavailable; the email worker waits for it", exc_info=True)
            failures += 1
            _close_connection()
            stop.wait(DATABASE_BACKOFF_SECONDS[min(failures, len(DATABASE_BACKOFF_SECONDS)) - 1])
            continue
        if failures:
            logger.warning("The database is back after %d failed attempt(s); sending again", failures)
            failures = 0
        if outcome is None:
            if until_idle:
                break
            stop.wait(poll_seconds)
        sent += outcome == SENT
    return sent


def _close_connection() -> None:
    global _relaxed_connection  # noqa: PLW0603 (one flag per process)
    _relaxed_connection = None
    with contextlib.suppress(DatabaseError):
        connection.close()


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


def _write_and_keep(email: OutgoingEmail) -> bool:
    """
    Write a message queued unwritten and store it before its first send, so
    every resend (after a failure, or by a worker taking over an expired
    lease) sends these same bytes; False if the lease is no longer ours.
    """
    email_rendering.write_queued(email)
    return bool(
        _mine(email).update(
            subject=email.subject, body_text=email.body_text, body_html=email.body_html, is_written=True
        )
    )


def _send(email: OutgoingEmail) -> None:
    # No transaction is open here: a slow mail server holds no lock.
    _mailer.send(build_message(email))


def is_permanent(exc: BaseException) -> bool:
    """A refusal that retrying cannot change: a 5xx for the recipient or for the message itself."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return bool(exc.recipients) and all(code >= 500 for code, _ in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPDataError):
        return exc.smtp_code >= 500
    # The provider's API refused every recipient (invalid, or on its own suppression list).
    return isinstance(exc, AnymailRecipientsRefused)


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
    mine = _mine(email)
    # Only the class and the row id reach the logs: an SMTP reply may quote the address.
    if is_permanent(exc) or email.attempts >= settings.SIGNATURES_EMAIL_MAX_ATTEMPTS:
        mine.update(status=Status.FAILED, claimed_until=None, last_error=error)
        logger.warning(
            "Email %s (%s) failed after %d attempt(s): %s", email.pk, email.kind, email.attempts, type(exc).__name__
        )
        return FAILED
    next_attempt_at = timezone.now() + retry_delay(email.attempts)
    mine.update(status=Status.QUEUED, next_attempt_at=next_attempt_at, claimed_until=None, last_error=error)
    logger.info(
        "Email %s (%s) attempt %d failed (%s); retrying at %s",
        email.pk,
        email.kind,
        email.attempts,
        type(exc).__name__,
        next_attempt_at.isoformat(timespec="seconds"),
    )
    return RETRY

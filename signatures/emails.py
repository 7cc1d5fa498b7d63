"""
One function per message we send to a signer. Each queues an `OutgoingEmail`
row in the caller's transaction, so the email exists if and only if the change
it is about was committed; the row stores what the message is about (its kind,
its signature, the ids it needs), not its text. A worker sends it
(`signatures.outbox`), retrying while the mail server is down, and renders
`templates/emails/<name>_subject.txt`, `<name>.txt` and `<name>.html` only
then (`render_email`): a sign request renders no templates, and a link in the
email is drawn when it is sent.
"""

from __future__ import annotations

import secrets
from email.utils import formataddr, parseaddr
from typing import Any

from django.conf import settings

from signatures import outbox
from signatures.abuse import limits
from signatures.email_rendering import one_line, render_email
from signatures.models import Letter, LetterVersion, OutgoingEmail, Signature

Kind = OutgoingEmail.Kind

__all__ = [
    "CAPPED_KINDS",
    "from_address",
    "new_message_id",
    "queue",
    # Drawn by the outbox when it sends; here too for whoever shows a queued email.
    "render_email",
    "send_already_signed",
    "send_confirmation",
    "send_revision_notice",
    "send_signature_public",
    "send_withdrawal_link",
]


def from_address(letter: Letter) -> str:
    name, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    sender_name = one_line(letter.sender_name or name)
    return formataddr((sender_name, address)) if sender_name else address


def new_message_id() -> str:
    """A Message-ID fixed when the email is queued, so a resend is recognisably the same message."""
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "localhost"
    return f"<{secrets.token_hex(16)}@{domain}>"


# Messages anyone can trigger by typing an address into a form: capped per
# address per letter (SIGNATURES_LIMIT_EMAILS_PER_ADDRESS), so the site cannot
# be used to flood a stranger's inbox, from however many IP addresses.
CAPPED_KINDS = frozenset({Kind.CONFIRM, Kind.ALREADY_SIGNED, Kind.WITHDRAW})


def queue(signature: Signature, kind: Kind, context: dict[str, Any] | None = None) -> OutgoingEmail | None:
    """Queue a message to a signer in the current transaction (None: over the per-address cap)."""
    if kind in CAPPED_KINDS and not limits.take_email_allowance(
        letter_id=signature.letter_id, email_normalized=signature.email_normalized
    ):
        return None
    email = OutgoingEmail(
        signature=signature,
        kind=kind,
        context=context or {},
        message_id=new_message_id(),
        from_email=from_address(signature.letter),
        to_email=signature.email,
        reply_to=one_line(settings.SIGNATURES_REPLY_TO),
    )
    outbox.put(email)
    return email


def send_confirmation(signature: Signature) -> OutgoingEmail | None:
    """Confirm your signature: the link that turns a submission into a signature."""
    return queue(signature, Kind.CONFIRM)


def send_already_signed(signature: Signature) -> OutgoingEmail | None:
    """You have already signed: the answer to a repeat submit of a confirmed address."""
    return queue(signature, Kind.ALREADY_SIGNED)


def send_withdrawal_link(signature: Signature) -> OutgoingEmail | None:
    """Withdraw your signature: the link that withdraws it and erases the signer's data."""
    return queue(signature, Kind.WITHDRAW)


def send_signature_public(signature: Signature) -> OutgoingEmail | None:
    """Your signature is public: sent when a moderator approves it."""
    return queue(signature, Kind.PUBLIC)


def send_revision_notice(signature: Signature, *, new_version: LetterVersion) -> OutgoingEmail | None:
    """The text you signed has changed: the difference, and a link to re-affirm or withdraw."""
    return queue(signature, Kind.REVISION_NOTICE, {"old_version": signature.version_id, "new_version": new_version.pk})

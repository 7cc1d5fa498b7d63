"""
Writing a message to a signer: `templates/emails/<kind>_subject.txt`,
`<kind>.txt` and `<kind>.html` in the signer's language.

A message whose whole content follows from its signature (the kinds in
CONTEXT_FROM_SIGNATURE: the confirmation link, "already signed", the
withdrawal link, "now public", an import invite) is queued as a row without
a subject or bodies and written by the worker when it first sends it
(`write_queued`), then stored: a sign POST renders no template, and a resend
sends the stored bytes. The others carry what the moment they were queued
knew (an update, a revision's diff) and are written at once (`render`).

Kept apart from `emails` (which queues) and `outbox` (which sends) because
both need it.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from email.utils import formataddr, parseaddr
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation

from signatures import links
from signatures.models import Letter, OutgoingEmail, Signature

Kind = OutgoingEmail.Kind


def one_line(value: str) -> str:
    # Header values are one line whatever a template, a letter or a name
    # contains: a "\r\nBcc: ..." cannot add a header or a recipient.
    return " ".join(str(value).split())


def from_address(letter: Letter) -> str:
    name, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    sender_name = one_line(letter.sender_name or name)
    return formataddr((sender_name, address)) if sender_name else address


def new_message_id() -> str:
    """A Message-ID fixed when the email is queued, so a resend is recognisably the same message."""
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "localhost"
    return f"<{secrets.token_hex(16)}@{domain}>"


def _confirm_context(signature: Signature) -> dict[str, Any]:
    return {"confirm_url": links.confirm_url(signature)}


def _withdraw_context(signature: Signature) -> dict[str, Any]:
    return {"withdraw_url": links.withdraw_url(signature)}


def _no_context(signature: Signature) -> dict[str, Any]:
    return {}


# What each kind written at send time needs beyond the signature and its letter.
# Its link's token is made then, so the link's days of validity count from
# the send: a held confirmation released days later still has all of them.
CONTEXT_FROM_SIGNATURE: dict[str, Callable[[Signature], dict[str, Any]]] = {
    Kind.CONFIRM: _confirm_context,
    Kind.IMPORT_INVITE: _confirm_context,
    Kind.ALREADY_SIGNED: _no_context,
    Kind.WITHDRAW: _withdraw_context,
    Kind.PUBLIC: _no_context,
}


def unwritten(signature: Signature, kind: Kind) -> OutgoingEmail:
    """The row of a message to be written when it is first sent (its kind's context follows from the signature)."""
    if kind not in CONTEXT_FROM_SIGNATURE:
        raise ValueError(f"A {kind} email carries its own context: render it when it is queued.")
    return _row(signature, kind)


def _row(signature: Signature, kind: Kind) -> OutgoingEmail:
    return OutgoingEmail(
        signature=signature,
        kind=kind,
        message_id=new_message_id(),
        from_email=from_address(signature.letter),
        to_email=signature.email,
        reply_to=one_line(settings.SIGNATURES_REPLY_TO),
        is_written=False,
    )


def _write(email: OutgoingEmail, signature: Signature, context: dict[str, Any]) -> None:
    letter = signature.letter
    context = {
        "signature": signature,
        "letter": letter,
        "site_url": settings.SITE_URL,
        "letter_url": links.letter_url(letter),
        "withdraw_page_url": links.withdraw_page_url(letter),
        "token_days": settings.SIGNATURES_TOKEN_MAX_AGE_DAYS,
        **context,
    }
    kind = email.kind
    with translation.override(signature.language or settings.LANGUAGE_CODE):
        email.subject = one_line(render_to_string(f"emails/{kind}_subject.txt", context))[:500]
        email.body_text = render_to_string(f"emails/{kind}.txt", context)
        email.body_html = render_to_string(f"emails/{kind}.html", context)
    email.is_written = True


def render(signature: Signature, kind: Kind, context: dict[str, Any]) -> OutgoingEmail:
    """The message to a signer, written now in their language, as an unsaved row."""
    email = _row(signature, kind)
    _write(email, signature, context)
    return email


def write_queued(email: OutgoingEmail) -> OutgoingEmail:
    """Write a queued message's subject and bodies from its signature as it is now (the caller stores them)."""
    signature = email.signature
    _write(email, signature, CONTEXT_FROM_SIGNATURE[email.kind](signature))
    return email

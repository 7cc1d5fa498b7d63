"""
One function per message we send to a signer. Each renders
`templates/emails/<name>_subject.txt`, `<name>.txt` and `<name>.html`.
"""

from __future__ import annotations

from email.utils import formataddr, parseaddr
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from .models import Signature
from .tokens import Purpose, make_token


def absolute_url(path: str) -> str:
    # Always SITE_URL, never the request's Host header, which a client controls.
    return f"{settings.SITE_URL}{path}"


def confirm_url(signature: Signature) -> str:
    return absolute_url(reverse("signatures:confirm", kwargs={"token": make_token(signature, Purpose.CONFIRM)}))


def from_address(signature: Signature) -> str:
    name, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    sender_name = signature.letter.sender_name or name
    return formataddr((sender_name, address)) if sender_name else address


def build_message(signature: Signature, template: str, context: dict[str, Any]) -> EmailMultiAlternatives:
    context = {
        "signature": signature,
        # The letter's title as the organizers translated it for the signer's language.
        "letter": signature.letter.translated(signature.language),
        "site_url": settings.SITE_URL,
        "token_days": settings.SIGNATURES_TOKEN_MAX_AGE_DAYS,
        **context,
    }
    with translation.override(signature.language or settings.LANGUAGE_CODE):
        # Subjects are one line whatever a template or a name contains.
        subject = " ".join(render_to_string(f"emails/{template}_subject.txt", context).split())
        text = render_to_string(f"emails/{template}.txt", context)
        html = render_to_string(f"emails/{template}.html", context)
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=from_address(signature),
        to=[signature.email],
        reply_to=[settings.SIGNATURES_REPLY_TO] if settings.SIGNATURES_REPLY_TO else None,
        headers={"Auto-Submitted": "auto-generated"},
    )
    message.attach_alternative(html, "text/html")
    return message


def deliver(message: EmailMultiAlternatives) -> None:
    """Send once the signature it is about has been committed."""
    transaction.on_commit(message.send)


def send_confirmation(signature: Signature) -> None:
    deliver(build_message(signature, "confirm_signature", {"confirm_url": confirm_url(signature)}))


def send_already_signed(signature: Signature) -> None:
    letter_url = absolute_url(signature.letter.get_absolute_url())
    deliver(build_message(signature, "already_signed", {"letter_url": letter_url}))

"""
Every absolute URL we email or hand out, built from SITE_URL — never from the
request's Host header, which a client controls.
"""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse

from signatures.models import Invitation, Letter, Signature
from signatures.tokens import Purpose, make_invitation_token, make_token


def absolute_url(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def letter_url(letter: Letter) -> str:
    return absolute_url(letter.get_absolute_url())


def confirm_url(signature: Signature) -> str:
    return absolute_url(reverse("signatures:confirm", kwargs={"token": make_token(signature, Purpose.CONFIRM)}))


def withdraw_url(signature: Signature) -> str:
    return absolute_url(reverse("signatures:withdraw", kwargs={"token": make_token(signature, Purpose.WITHDRAW)}))


def withdraw_page_url(letter: Letter) -> str:
    return absolute_url(reverse("signatures:withdraw_request", kwargs={"slug": letter.slug}))


def reaffirm_url(signature: Signature) -> str:
    return absolute_url(reverse("signatures:reaffirm", kwargs={"token": make_token(signature, Purpose.REAFFIRM)}))


def unsubscribe_url(signature: Signature) -> str:
    """Stop updates about this letter: the footer link and the List-Unsubscribe header (RFC 8058)."""
    return absolute_url(
        reverse("signatures:unsubscribe", kwargs={"token": make_token(signature, Purpose.UNSUBSCRIBE)})
    )


def invitation_url(invitation: Invitation) -> str:
    return absolute_url(reverse("signatures:invitation", kwargs={"token": make_invitation_token(invitation)}))

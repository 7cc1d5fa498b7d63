"""
The text of a queued email, drawn when the worker sends it: subject, plain
text and HTML from `templates/emails/<kind>_subject.txt`, `<kind>.txt` and
`<kind>.html`, with what the row keeps (its signature, and ids such as the
letter versions of a revision notice). Links are made at that moment, so a
retried email carries fresh ones. The outbox calls `render_email`; `emails`
queues the rows (and re-exports it), and cannot be imported by the outbox it
queues through.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation

from signatures import links
from signatures.models import LetterVersion, OutgoingEmail, Signature
from signatures.revisions import diff_lines, unified_diff

Kind = OutgoingEmail.Kind


def one_line(value: str) -> str:
    # Header values are one line whatever a template, a letter or a name
    # contains: a "\r\nBcc: ..." cannot add a header or a recipient.
    return " ".join(str(value).split())


def render_email(email: OutgoingEmail) -> tuple[str, str, str]:
    """The subject, text and HTML of a queued email, in its signer's language."""
    if email.body_text:
        # Queued with its text already rendered, before rendering moved here.
        return email.subject, email.body_text, email.body_html
    signature = email.signature
    letter = signature.letter
    kind = Kind(email.kind)
    context = {
        "signature": signature,
        "letter": letter,
        "site_url": settings.SITE_URL,
        "letter_url": links.letter_url(letter),
        "withdraw_page_url": links.withdraw_page_url(letter),
        "token_days": settings.SIGNATURES_TOKEN_MAX_AGE_DAYS,
        **KIND_CONTEXT[kind](signature, email.context),
    }
    with translation.override(signature.language or settings.LANGUAGE_CODE):
        subject = one_line(render_to_string(f"emails/{kind.value}_subject.txt", context))
        text = render_to_string(f"emails/{kind.value}.txt", context)
        html = render_to_string(f"emails/{kind.value}.html", context)
    return subject[:500], text, html


# What each message shows besides the signature and the letter, drawn when it
# is sent from the ids its row keeps. Links are made then, so they are fresh.


def no_context(signature: Signature, ids: dict[str, Any]) -> dict[str, Any]:
    return {}


def confirmation_context(signature: Signature, ids: dict[str, Any]) -> dict[str, Any]:
    return {"confirm_url": links.confirm_url(signature)}


def withdrawal_context(signature: Signature, ids: dict[str, Any]) -> dict[str, Any]:
    return {"withdraw_url": links.withdraw_url(signature)}


def revision_notice_context(signature: Signature, ids: dict[str, Any]) -> dict[str, Any]:
    # A signature from before versions were kept has no old version: the diff says "unknown earlier text".
    versions = LetterVersion.objects.in_bulk([pk for pk in (ids["old_version"], ids["new_version"]) if pk])
    old_version, new_version = versions.get(ids["old_version"]), versions[ids["new_version"]]
    return {
        "old_version": old_version,
        "new_version": new_version,
        "diff_text": unified_diff(old_version, new_version),
        "diff_lines": diff_lines(old_version, new_version),
        "reaffirm_url": links.reaffirm_url(signature),
        "withdraw_url": links.withdraw_url(signature),
        "version_url": links.absolute_url(new_version.get_absolute_url()),
    }


KIND_CONTEXT = {
    Kind.CONFIRM: confirmation_context,
    Kind.ALREADY_SIGNED: no_context,
    Kind.WITHDRAW: withdrawal_context,
    Kind.PUBLIC: no_context,
    Kind.REVISION_NOTICE: revision_notice_context,
}

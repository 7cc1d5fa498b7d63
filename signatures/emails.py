"""
One function per message we send to a signer. Each queues an `OutgoingEmail`
row in the caller's transaction, so the email exists if and only if the
change it is about was committed. A worker sends it (`signatures.outbox`),
retrying while the mail server is down. The templates are
`templates/emails/<name>_subject.txt`, `<name>.txt` and `<name>.html`
(`signatures.email_rendering`): messages that follow from the signature alone
are written when first sent, the rest when queued.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.urls import reverse

from signatures import email_rendering, links, outbox
from signatures.abuse import limits, mail_budget
from signatures.email_rendering import one_line, render
from signatures.models import LetterUpdate, LetterVersion, OutgoingEmail, Signature
from signatures.revisions import diff_lines, unified_diff

Kind = OutgoingEmail.Kind


# Messages anyone can trigger by typing an address into a form: capped per
# address per letter (SIGNATURES_LIMIT_EMAILS_PER_ADDRESS), so the site cannot
# be used to flood a stranger's inbox, from however many IP addresses.
CAPPED_KINDS = frozenset({Kind.CONFIRM, Kind.ALREADY_SIGNED, Kind.WITHDRAW})


def queue(
    signature: Signature,
    kind: Kind,
    context: dict[str, Any] | None = None,
    *,
    headers: dict[str, str] | None = None,
    update: LetterUpdate | None = None,
    held: bool = False,
    ip_address: str | None = None,
    may_email: bool | None = None,
) -> OutgoingEmail | None:
    """
    Queue a message to a signer in the current transaction (None: over the per-address cap).
    Without a `context` it is written when first sent, from the signature
    (`email_rendering.CONTEXT_FROM_SIGNATURE`); with one, now.

    `held`: the attempt tripped an abuse limit, so the email waits for a
    moderator (`services.release_held_emails`) and nothing goes out at once.
    Otherwise its first attempt waits for room in the mail budgets of the
    client address (`ip_address`, of the sign attempt) and the recipient's domain.
    `may_email`: the per-address cap was already counted, with the sign
    attempt's limits (`limits.count_sign_attempt`); None counts it here.
    """
    if may_email is None and kind in CAPPED_KINDS:
        may_email = limits.take_email_allowance(
            letter_id=signature.letter_id, email_normalized=signature.email_normalized
        )
    if may_email is False:
        return None
    email = email_rendering.unwritten(signature, kind) if context is None else render(signature, kind, context)
    email.headers = headers or {}
    email.update = update
    if held:
        email.status = OutgoingEmail.Status.HELD
    else:
        email.next_attempt_at = mail_budget.send_at(ip_address=ip_address, to_email=signature.email)
    outbox.put(email)
    return email


def send_confirmation(
    signature: Signature, *, held: bool = False, ip_address: str | None = None, may_email: bool | None = None
) -> OutgoingEmail | None:
    """Confirm your signature: the link that turns a submission into a signature."""
    return queue(signature, Kind.CONFIRM, held=held, ip_address=ip_address, may_email=may_email)


def send_import_invite(signature: Signature) -> OutgoingEmail | None:
    """You were added by the organizers: confirm to be counted, and choose whether to be listed."""
    return queue(signature, Kind.IMPORT_INVITE)


def send_already_signed(
    signature: Signature, *, held: bool = False, ip_address: str | None = None, may_email: bool | None = None
) -> OutgoingEmail | None:
    """You have already signed: the answer to a repeat submit of a confirmed address."""
    return queue(signature, Kind.ALREADY_SIGNED, held=held, ip_address=ip_address, may_email=may_email)


def send_withdrawal_link(signature: Signature) -> OutgoingEmail | None:
    """Withdraw your signature: the link that withdraws it and erases the signer's data."""
    return queue(signature, Kind.WITHDRAW)


def send_signature_public(signature: Signature) -> OutgoingEmail | None:
    """Your signature is public: sent when a moderator approves it."""
    return queue(signature, Kind.PUBLIC)


def send_revision_notice(signature: Signature, *, new_version: LetterVersion) -> OutgoingEmail | None:
    """The text you signed has changed: the difference, and a link to re-affirm or withdraw."""
    old_version = signature.version
    context = {
        "old_version": old_version,
        "new_version": new_version,
        "diff_text": unified_diff(old_version, new_version),
        "diff_lines": diff_lines(old_version, new_version),
        "reaffirm_url": links.reaffirm_url(signature),
        "withdraw_url": links.withdraw_url(signature),
        "version_url": links.absolute_url(new_version.get_absolute_url()),
    }
    return queue(signature, Kind.REVISION_NOTICE, context)


def unsubscribe_headers(unsubscribe_url: str) -> dict[str, str]:
    # RFC 8058 one-click: Gmail and Yahoo ask bulk senders for both headers, and
    # show their own "Unsubscribe" button, which POSTs to the URL without a person.
    return {"List-Unsubscribe": f"<{unsubscribe_url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


def send_letter_update(signature: Signature, *, update: LetterUpdate) -> OutgoingEmail | None:
    """News about the letter, to a signer who asked for updates; with a one-click unsubscribe."""
    unsubscribe_url = links.unsubscribe_url(signature)
    context = {"update": update, "unsubscribe_url": unsubscribe_url}
    return queue(signature, Kind.LETTER_UPDATE, context, headers=unsubscribe_headers(unsubscribe_url), update=update)


def letter_update_test(update: LetterUpdate, *, to_email: str) -> OutgoingEmail:
    """An update as a signer would get it, addressed to an organizer (an unsaved row; nothing is queued)."""
    stand_in = Signature(letter=update.letter, full_name="", email=to_email, language=settings.LANGUAGE_CODE)
    # A link that looks like the real one but belongs to nobody.
    unsubscribe_url = links.absolute_url(reverse("signatures:unsubscribe", kwargs={"token": "test"}))
    context = {"update": update, "unsubscribe_url": unsubscribe_url}
    email = render(stand_in, Kind.LETTER_UPDATE, context)
    email.subject = one_line(f"[Test] {email.subject}")[:500]
    email.headers = unsubscribe_headers(unsubscribe_url)
    return email

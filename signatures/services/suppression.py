"""The suppression list: addresses the mail provider says we must not write to again."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from signatures.models import OutgoingEmail, SuppressedAddress
from signatures.text import normalize_email

Reason = SuppressedAddress.Reason


def suppress_address(
    *, email: str, reason: Reason, provider: str = "", event_id: str = "", description: str = ""
) -> bool:
    """
    Never email this address again (a hard bounce, a spam complaint); False
    if it was on the list already. What is still queued for it is marked
    suppressed too, so a bounce stops the rest of a large send at once.
    """
    email_normalized = normalize_email(email)
    if not email_normalized or "@" not in email_normalized:
        return False
    try:
        with transaction.atomic():
            SuppressedAddress.objects.create(
                email_normalized=email_normalized,
                reason=reason,
                provider=provider[:40],
                event_id=event_id[:255],
                description=" ".join(description.split())[:500],
            )
            OutgoingEmail.objects.filter(
                signature__email_normalized=email_normalized, status=OutgoingEmail.Status.QUEUED
            ).update(status=OutgoingEmail.Status.SUPPRESSED)
    except IntegrityError:
        return False  # the provider repeats events; the first one counts
    return True

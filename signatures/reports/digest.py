"""
The daily moderation digest for organizers who opted in: per letter, the
queue size, how long the oldest signature has waited, and surges flagged.
Staff email, not signer email: it is sent by a background task straight
through django.core.mail, since no signature depends on it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from signatures.models import Letter, SurgeFlag
from signatures.reports.overview import letter_overview


def recipients() -> list[str]:
    """Active staff who asked for the digest and have an address."""
    users = (
        get_user_model()
        .objects.filter(moderation_digest__isnull=False, is_active=True, is_staff=True)
        .exclude(email="")
    )
    return sorted(users.values_list("email", flat=True))


def digest_context() -> dict:
    since = timezone.now() - timedelta(days=1)
    letters = Letter.objects.filter(Q(status=Letter.Status.OPEN) | Q(surge_flags__reviewed_at__isnull=True)).distinct()
    queue_url = settings.SITE_URL + reverse("admin:signatures_signature_changelist")
    entries: list[dict[str, Any]] = []
    for letter in letters.order_by("title"):
        overview = letter_overview(letter, with_history=False)
        recent_flags = SurgeFlag.objects.filter(letter=letter).filter(
            Q(reviewed_at__isnull=True) | Q(created_at__gte=since)
        )
        entries.append(
            {
                "overview": overview,
                "surges": list(recent_flags.order_by("-created_at")),
                "queue_url": f"{queue_url}?letter__id__exact={letter.pk}",
            }
        )
    return {
        "entries": entries,
        "waiting": sum(entry["overview"].awaiting_decision for entry in entries),
        "surges": sum(len(entry["surges"]) for entry in entries),
        "queue_url": queue_url,
        "site_url": settings.SITE_URL,
    }


def send_moderation_digest() -> int:
    """Email the digest to every subscriber; return how many were sent."""
    to = recipients()
    if not to:
        return 0
    context = digest_context()
    subject = " ".join(render_to_string("emails/moderation_digest_subject.txt", context).split())
    body = render_to_string("emails/moderation_digest.txt", context)
    # One message per person: subscribers never see each other's addresses.
    messages = [
        EmailMessage(subject=subject, body=body, to=[address], headers={"Auto-Submitted": "auto-generated"})
        for address in to
    ]
    for message in messages:
        message.send()
    return len(messages)

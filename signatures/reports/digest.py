"""
The daily moderation digest for organizers who opted in: per letter, the
queue size, how long the oldest signature has waited, and surges flagged.
Each subscriber's digest covers the letters they may see in the admin (a
letter team's member hears only of the team's letters, whose titles and
figures are not everyone's). Staff email, not signer email: it is sent by a
background task straight through django.core.mail, since no signature
depends on it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage
from django.db.models import Q, QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from signatures.models import Letter, SurgeFlag
from signatures.reports.overview import letter_overview


def recipients() -> list[Any]:
    """Active staff who asked for the digest and have an address."""
    users = (
        get_user_model()
        .objects.filter(moderation_digest__isnull=False, is_active=True, is_staff=True)
        .exclude(email="")
    )
    return list(users.order_by("email"))


def digest_context(letters: QuerySet[Letter] | None = None) -> dict:
    """The digest over `letters` (every letter if None): the open ones, and any with a surge not yet reviewed."""
    since = timezone.now() - timedelta(days=1)
    letters = Letter.objects.all() if letters is None else letters
    letters = letters.filter(Q(status=Letter.Status.OPEN) | Q(surge_flags__reviewed_at__isnull=True)).distinct()
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
    """Email each subscriber the digest of the letters they moderate; return how many were sent."""
    sent = 0
    # Subscribers who see the same letters get the same digest, drawn once.
    drawn: dict[frozenset[int] | None, tuple[str, str, bool]] = {}
    for user in recipients():
        letter_ids = Letter.team_letter_ids(user)
        if letter_ids not in drawn:
            context = digest_context(Letter.objects.visible_to(user))
            drawn[letter_ids] = (
                " ".join(render_to_string("emails/moderation_digest_subject.txt", context).split()),
                str(render_to_string("emails/moderation_digest.txt", context)),
                bool(context["entries"]),
            )
        subject, body, has_letters = drawn[letter_ids]
        if not has_letters and letter_ids is not None:
            # A team member whose letters are all closed and calm: nothing to tell them.
            continue
        # One message per person: subscribers never see each other's addresses.
        EmailMessage(subject=subject, body=body, to=[user.email], headers={"Auto-Submitted": "auto-generated"}).send()
        sent += 1
    return sent

"""
What an organizer needs to see about a letter at a glance: counts by state
(from the exact counters, never COUNT(*) over the signatures), signatures per
day, and how long the oldest signature has waited for a decision.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import Count
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from signatures.models import Letter, OutgoingEmail, Signature, SignatureCounter, SurgeFlag

DAYS_SHOWN = 14


@dataclass
class LetterOverview:
    letter: Letter
    counts: list[tuple[str | Promise, int]]
    awaiting_decision: int
    held: int
    public: int
    oldest_waiting_since: datetime | None
    per_day: list[tuple[date, int]] = field(default_factory=list)
    open_surges: list[SurgeFlag] = field(default_factory=list)
    # Emails of attempts that tripped an abuse limit, not sent until a moderator releases them.
    held_emails: int = 0


def oldest_waiting_since(letter: Letter) -> datetime | None:
    # signature_letter_queue_idx (letter, state, confirmed_at, id) answers this with one index probe.
    return (
        Signature.objects.filter(letter=letter, state=Signature.State.CONFIRMED)
        .order_by("confirmed_at", "id")
        .values_list("confirmed_at", flat=True)
        .first()
    )


def signatures_per_day(letter: Letter, *, days: int = DAYS_SHOWN) -> list[tuple[date, int]]:
    """Signatures submitted each day of the last `days` days, today last, days without any included."""
    today = timezone.localdate()
    first_day = today - timedelta(days=days - 1)
    since = timezone.make_aware(datetime.combine(first_day, datetime.min.time()))
    rows = (
        Signature.objects.filter(letter=letter, created_at__gte=since)
        .order_by()
        .annotate(day=TruncDate("created_at"))
        .values("day")
        .annotate(n=Count("*"))  # COUNT(*): an index-only scan of (letter, created_at)
        .values_list("day", "n")
    )
    by_day = dict(rows)
    return [(first_day + timedelta(days=i), by_day.get(first_day + timedelta(days=i), 0)) for i in range(days)]


def letter_overview(letter: Letter, *, with_history: bool = True) -> LetterOverview:
    values = SignatureCounter.values_for(letter)
    state = Signature.State
    confirmed = values.get(SignatureCounter.state_key(state.CONFIRMED), 0)
    held = values.get(SignatureCounter.HELD, 0)
    counts: list[tuple[str | Promise, int]] = [
        (_("Submitted, awaiting email confirmation"), values.get(SignatureCounter.state_key(state.SUBMITTED), 0)),
        (_("Confirmed, awaiting moderation"), confirmed - held),
        (_("Held for review"), held),
        (_("Approved"), values.get(SignatureCounter.state_key(state.APPROVED), 0)),
        (_("Rejected"), values.get(SignatureCounter.state_key(state.REJECTED), 0)),
        (_("Withdrawn"), values.get(SignatureCounter.state_key(state.WITHDRAWN), 0)),
    ]
    return LetterOverview(
        letter=letter,
        counts=counts,
        awaiting_decision=confirmed,
        held=held,
        public=values.get(SignatureCounter.PUBLIC, 0),
        oldest_waiting_since=oldest_waiting_since(letter),
        per_day=signatures_per_day(letter) if with_history else [],
        open_surges=list(SurgeFlag.objects.filter(letter=letter, reviewed_at__isnull=True).order_by("-created_at")),
        held_emails=OutgoingEmail.objects.held().filter(signature__letter=letter).count() if with_history else 0,
    )

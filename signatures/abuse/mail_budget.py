"""
Budgets for outgoing mail, so the sign form cannot be turned into a mail
cannon that spends the sending domain's reputation (and with it real
signers' confirmations).

Three budgets, each "count/seconds" and counted in the shared cache like the
abuse limits (`signatures.abuse.limits`), so every process agrees:

- per client address of the sign attempt (`SIGNATURES_MAIL_BUDGET_PER_IP`,
  IPv6 per /64) and per recipient domain (`SIGNATURES_MAIL_BUDGET_PER_DOMAIN`,
  the big shared providers exempt): known when the email is queued, so
  `send_at` is asked then and the email's first attempt is set to a window
  with room;
- overall (`SIGNATURES_MAIL_BUDGET_OVERALL`): what matters is how fast the
  worker sends, so `budget_allows` is asked just before each send and the
  outbox defers an email it refuses to `overall_room_at`.

Mail over a budget is deferred, never dropped.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from django.conf import settings

from signatures.abuse import limits
from signatures.models import OutgoingEmail

# How many windows ahead `send_at` looks for room before it settles for the last one.
_LOOKAHEAD_WINDOWS = 8


def _window_start(rate: limits.Rate, at: float) -> float:
    return (at // rate.seconds) * rate.seconds


def _later_room(name: str, subject: str, rate: limits.Rate, first: limits.Hit, now: float) -> float:
    """
    The slot `first` took was over `subject`'s budget: take one in the first
    later window that has room; return when that window opens.
    """
    # Jump straight past the windows this window's excess already fills, so a
    # flood costs a couple of counts per email, not one per window.
    over = first.count - first.limit
    at = _window_start(rate, now) + rate.seconds * (1 + (over - 1) // rate.count)
    for _ in range(_LOOKAHEAD_WINDOWS):
        result = limits.hit(name, subject, rate, now=at)
        if result is None or not result.exceeded:
            break
        at += rate.seconds
    return at


def send_at(*, ip_address: str | None, to_email: str, now: float | None = None) -> datetime:
    """When an email queued now may first be sent under the per-address and per-domain budgets."""
    now = time.time() if now is None else now
    # One slot of each budget in the current window, both in one round trip;
    # only a budget already spent looks further ahead.
    events: list[tuple[str, str, limits.Rate | None]] = []
    if ip_address:
        events.append(
            ("mail-ip", limits.ip_subject(ip_address), limits.configured_rate("SIGNATURES_MAIL_BUDGET_PER_IP"))
        )
    domain = to_email.rpartition("@")[2].lower()
    shared = getattr(settings, "SIGNATURES_LIMIT_DOMAIN_EXEMPT", limits.SHARED_MAIL_PROVIDERS)
    if domain and domain not in shared:
        events.append(("mail-domain", domain, limits.configured_rate("SIGNATURES_MAIL_BUDGET_PER_DOMAIN")))
    at = now
    for (name, subject, rate), result in zip(events, limits.hit_many(events, now=now), strict=True):
        if rate is not None and result is not None and result.exceeded:
            at = max(at, _later_room(name, subject, rate, result, now))
    return datetime.fromtimestamp(at, tz=UTC)


def budget_allows(email: OutgoingEmail) -> bool:
    """Count one send against the overall budget; False if this window is spent (defer to `overall_room_at`)."""
    result = limits.hit("mail-overall", "all", limits.configured_rate("SIGNATURES_MAIL_BUDGET_OVERALL"))
    return result is None or not result.exceeded


def overall_room_at(*, now: float | None = None) -> datetime:
    """When the overall budget has room again: the start of its next window."""
    now = time.time() if now is None else now
    rate = limits.configured_rate("SIGNATURES_MAIL_BUDGET_OVERALL")
    at = now if rate is None else _window_start(rate, now) + rate.seconds
    return datetime.fromtimestamp(at, tz=UTC)

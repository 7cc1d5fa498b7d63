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


def _room_in(name: str, subject: str, rate: limits.Rate | None, now: float) -> float:
    """
    Take one slot of `subject`'s budget: in the current window if it has room,
    else in the first later window that has; return when that window opens.
    """
    if rate is None:
        return now
    result = limits.hit(name, subject, rate, now=now)
    if result is None or not result.exceeded:
        return now
    # Jump straight past the windows this window's excess already fills, so a
    # flood costs a couple of counts per email, not one per window.
    over = result.count - result.limit
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
    at = now
    if ip_address:
        rate = limits.configured_rate("SIGNATURES_MAIL_BUDGET_PER_IP")
        at = max(at, _room_in("mail-ip", limits.ip_subject(ip_address), rate, now))
    domain = to_email.rpartition("@")[2].lower()
    shared = getattr(settings, "SIGNATURES_LIMIT_DOMAIN_EXEMPT", limits.SHARED_MAIL_PROVIDERS)
    if domain and domain not in shared:
        rate = limits.configured_rate("SIGNATURES_MAIL_BUDGET_PER_DOMAIN")
        at = max(at, _room_in("mail-domain", domain, rate, now))
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

"""
Abuse limits shared by every worker process.

Each limit is a fixed window counted where every process sees it, never in
per-process memory: in Redis when the shared cache is Redis, else in our own
table (`signatures.abuse.windows`). A window is `count/seconds`: "5/60"
allows five events a minute; "0" or "" turns the limit off. A sign attempt
counts all its windows in one round trip or statement (`hit_many`).

What is counted is keyed by a keyed hash of the subject (an IP address, an
email address, a domain), so the cache never holds one in plain form.

Over a sign limit nothing is refused: the signature is stored but held for a
moderator (`Signature.HoldReason`), and the signer sees the normal response.
Only endpoints whose answers reveal nothing (repeated confirm/withdraw POSTs,
list scraping) answer 429 with `Retry-After` (`limit_per_ip`).
"""

from __future__ import annotations

import functools
import ipaddress
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils.crypto import salted_hmac

from signatures.abuse import windows
from signatures.abuse.client import client_ip
from signatures.caching import organizer_data
from signatures.models import Signature

# Big shared mail providers: thousands of unrelated people sign from each, so a
# per-domain limit would only hold real signers. The per-IP limits still apply.
SHARED_MAIL_PROVIDERS = (
    "aol.com", "free.fr", "gmail.com", "gmx.de", "gmx.net", "googlemail.com", "hotmail.co.uk", "hotmail.com",
    "hotmail.fr", "icloud.com", "laposte.net", "live.com", "mac.com", "mail.ru", "me.com", "msn.com",
    "orange.fr", "outlook.com", "pm.me", "proton.me", "protonmail.com", "t-online.de", "web.de", "yahoo.co.uk",
    "yahoo.com", "yahoo.fr", "yandex.ru",
)  # fmt: skip


@dataclass(frozen=True)
class Rate:
    """At most `count` events per `seconds`."""

    count: int
    seconds: int

    @classmethod
    def parse(cls, value: str | None) -> Rate | None:
        """'5/60' -> Rate(5, 60); '', '0' or None -> None (no limit)."""
        if not value or str(value).strip() in ("0", "off"):
            return None
        count, _, seconds = str(value).partition("/")
        rate = cls(int(count), int(seconds or 60))
        if rate.count <= 0 or rate.seconds <= 0:
            return None
        return rate


@dataclass(frozen=True)
class Hit:
    """The count in the current window after one more event, and when the window ends."""

    count: int
    limit: int
    retry_after: int

    @property
    def exceeded(self) -> bool:
        return self.count > self.limit


def configured_rate(setting: str) -> Rate | None:
    return Rate.parse(getattr(settings, setting, ""))


def subject_key(subject: str) -> str:
    return salted_hmac("signatures.limits", subject, algorithm="sha256").hexdigest()[:32]


def _window(name: str, subject: str, rate: Rate, now: float) -> tuple[str, int]:
    """The key of the window `now` falls in, and the seconds after which it may go."""
    number = int(now // rate.seconds)
    # A little longer than the window, so a late event still finds it.
    return f"{name}:{subject_key(subject)}:{number}", rate.seconds + 60


def _retry_after(rate: Rate, now: float) -> int:
    return max(1, math.ceil((int(now // rate.seconds) + 1) * rate.seconds - now))


def hit(name: str, subject: str, rate: Rate | None, *, now: float | None = None) -> Hit | None:
    """Count one event for `subject` under limit `name`; None if the limit is off."""
    return hit_many([(name, subject, rate)], now=now)[0]


def hit_many(events: list[tuple[str, str, Rate | None]], *, now: float | None = None) -> list[Hit | None]:
    """`hit` for several limits at once: one round trip or statement for all of them."""
    now = time.time() if now is None else now
    keys = dict(_window(name, subject, rate, now) for name, subject, rate in events if rate is not None)
    counts = windows.count(keys)
    results: list[Hit | None] = []
    for name, subject, rate in events:
        if rate is None:
            results.append(None)
            continue
        key, _seconds = _window(name, subject, rate, now)
        results.append(Hit(count=counts[key], limit=rate.count, retry_after=_retry_after(rate, now)))
    return results


def peek(name: str, subject: str, rate: Rate | None, *, now: float | None = None) -> int:
    """The count so far in the current window, without adding to it."""
    if rate is None:
        return 0
    key, _seconds = _window(name, subject, rate, time.time() if now is None else now)
    return windows.peek(key)


def ip_subject(ip_address: str) -> str:
    """
    What a per-IP limit counts: an IPv4 address, or the whole /64 of an IPv6
    one. A household or a phone gets a /64 and can pick any address in it, so
    counting addresses would let one client rotate through billions of them.
    """
    try:
        address = ipaddress.ip_address(ip_address)
    except ValueError:
        return ip_address
    if address.version == 6:
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


# --- allow lists ------------------------------------------------------------


def domain_and_parents(domain: str) -> list[str]:
    """'mail.studio.example' -> ['mail.studio.example', 'studio.example', 'example']."""
    parts = domain.lower().strip(".").split(".")
    return [".".join(parts[i:]) for i in range(len(parts))]


def is_allowed_network(ip_address: str | None) -> bool:
    if not ip_address:
        return False
    try:
        address = ipaddress.ip_address(ip_address)
    except ValueError:
        return False
    return organizer_data.is_allowed_network(address)


def is_allowed_domain(domain: str) -> bool:
    return organizer_data.is_allowed_domain(domain_and_parents(domain))


# --- the sign form ----------------------------------------------------------


@dataclass(frozen=True)
class SignAttempt:
    """What counting a sign attempt found: the hold reason it earns ('' for none), and whether it may email."""

    hold_reason: str
    may_email: bool


def count_sign_attempt(*, letter_id: int, ip_address: str | None, email_normalized: str, trusted: bool) -> SignAttempt:
    """
    Count one sign attempt that will email its address (a caught or blocked
    one never gets here): against the per-IP (burst and sustained) and
    per-domain limits of a letter, unless `trusted` (an invited founding
    signatory), and against the address's email cap (`take_email_allowance`),
    every window in one round trip.

    Both IP windows count every attempt, even when one already tripped.
    """

    # Allow lists are read only once a limit trips, so an ordinary attempt costs
    # nothing but the counting.
    events: list[tuple[str, str, Rate | None]] = [email_allowance_event(letter_id, email_normalized)]
    if ip_address and not trusted:
        subject = f"{letter_id}:{ip_subject(ip_address)}"
        events.append(("sign-ip-burst", subject, configured_rate("SIGNATURES_LIMIT_SIGN_IP_BURST")))
        events.append(("sign-ip-sustained", subject, configured_rate("SIGNATURES_LIMIT_SIGN_IP_SUSTAINED")))
    ip_events = len(events)
    domain = email_normalized.rpartition("@")[2]
    shared = getattr(settings, "SIGNATURES_LIMIT_DOMAIN_EXEMPT", SHARED_MAIL_PROVIDERS)
    if domain and domain not in shared and not trusted:
        events.append(("sign-domain", f"{letter_id}:{domain}", configured_rate("SIGNATURES_LIMIT_SIGN_DOMAIN")))
    allowance, *results = hit_many(events)
    may_email = allowance is None or not allowance.exceeded
    ip_over = any(result and result.exceeded for result in results[: ip_events - 1])
    if ip_over and not is_allowed_network(ip_address):
        return SignAttempt(Signature.HoldReason.IP_LIMIT, may_email)
    domain_over = any(result and result.exceeded for result in results[ip_events - 1 :])
    if domain_over and not is_allowed_domain(domain):
        return SignAttempt(Signature.HoldReason.DOMAIN_LIMIT, may_email)
    return SignAttempt("", may_email)


def email_allowance_event(letter_id: int, email_normalized: str) -> tuple[str, str, Rate | None]:
    return (
        "emails-to-address",
        f"{letter_id}:{email_normalized}",
        configured_rate("SIGNATURES_LIMIT_EMAILS_PER_ADDRESS"),
    )


def take_email_allowance(*, letter_id: int, email_normalized: str) -> bool:
    """
    Count one email to an address about a letter; False once the hard cap is
    reached, so the form cannot be used to flood a stranger's inbox, from
    however many IP addresses.
    """
    result = hit(*email_allowance_event(letter_id, email_normalized))
    return result is None or not result.exceeded


# --- endpoints that may say "slow down" --------------------------------------


def too_many_requests(request: HttpRequest, retry_after: int) -> HttpResponse:
    response = HttpResponse(
        render_to_string("signatures/too_many_requests.html", {"retry_after": retry_after}, request=request),
        status=429,
    )
    response["Retry-After"] = str(retry_after)
    return response


def limit_per_ip(name: str, setting: str, *, methods: Iterable[str] = ("POST",)) -> Callable:
    """
    Decorate a view so each client IP gets at most the setting's rate of
    `methods` requests; past it, 429 with Retry-After. Only for endpoints whose
    answers reveal nothing about anyone (never the sign form).
    """
    methods = frozenset(methods)

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            ip = client_ip(request)
            if request.method in methods and ip:
                result = hit(name, ip_subject(ip), configured_rate(setting))
                if result and result.exceeded and not is_allowed_network(ip):
                    return too_many_requests(request, result.retry_after)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator

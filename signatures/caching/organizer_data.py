"""
What organizers change rarely but every sign attempt reads: the allowed
networks and domains, the blocked addresses and domains, the privacy notice
in force, the watchlist, a letter's professions and its current published
version. Kept in
each process for `SIGNATURES_ORGANIZER_DATA_SECONDS`, so a viral hour does
not ask the database the same questions for every signature.

A change saved in this process (the admin, a service, a test) drops the kept
copies at once (`post_save`/`post_delete`, and again when the transaction
commits); the other processes see it within the same few seconds as the page
cache's (`SIGNATURES_PAGE_CACHE_SECONDS`). 0 turns the keeping off: the
default in development and tests, where a change must show at once. The
allow and block lists are kept whole, which suits lists organizers type in
the admin (hundreds of entries, not millions).
"""

from __future__ import annotations

import ipaddress
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_delete, post_save

from signatures.models import (
    AllowedDomain,
    AllowedNetwork,
    BlockedAddress,
    BlockedDomain,
    CustomQuestion,
    LetterVersion,
    PrivacyNotice,
    Profession,
    WatchlistEntry,
)

if TYPE_CHECKING:
    from signatures.models import Letter, LetterVersion, Profession

T = TypeVar("T")

_kept: dict[str, tuple[float, Any]] = {}
_lock = threading.Lock()


def _kept_or_load(name: str, load: Callable[[], T]) -> T:
    seconds = settings.SIGNATURES_ORGANIZER_DATA_SECONDS
    if seconds <= 0:
        return load()
    now = time.monotonic()
    kept = _kept.get(name)
    if kept is not None and kept[0] > now:
        return kept[1]
    value = load()
    with _lock:
        if len(_kept) > 1000:  # versions and professions of many letters: start afresh
            _kept.clear()
        _kept[name] = (now + seconds, value)
    return value


def forget(*_args: Any, **_kwargs: Any) -> None:
    """Drop every kept copy (a receiver for organizer models' signals)."""
    with _lock:
        _kept.clear()
    # A read inside the transaction that saved the change may have kept the
    # old value again before the commit: forget once more when it commits.
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(_forget_now)


def _forget_now() -> None:
    with _lock:
        _kept.clear()


def _keeping() -> bool:
    return settings.SIGNATURES_ORGANIZER_DATA_SECONDS > 0


def is_allowed_network(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:

    def load() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
        networks = []
        for cidr in AllowedNetwork.objects.values_list("cidr", flat=True):
            try:
                networks.append(ipaddress.ip_network(cidr, strict=False))
            except ValueError:
                continue
        return networks

    return any(address in network for network in _kept_or_load("allowed_networks", load))


def is_allowed_domain(domains: list[str]) -> bool:
    """Whether organizers allowed any of `domains` (a domain and its parents)."""

    if not _keeping():
        return AllowedDomain.objects.filter(domain__in=domains).exists()
    kept = _kept_or_load("allowed_domains", lambda: frozenset(AllowedDomain.objects.values_list("domain", flat=True)))
    return not kept.isdisjoint(domains)


def is_blocked_domain(domains: list[str]) -> bool:
    """Whether organizers blocked any of `domains` (a domain and its parents)."""

    if not _keeping():
        return BlockedDomain.objects.filter(domain__in=domains).exists()
    kept = _kept_or_load("blocked_domains", lambda: frozenset(BlockedDomain.objects.values_list("domain", flat=True)))
    return not kept.isdisjoint(domains)


def is_blocked_address(email_normalized: str) -> bool:

    if not _keeping():
        return BlockedAddress.objects.filter(email_normalized=email_normalized).exists()
    kept = _kept_or_load(
        "blocked_addresses", lambda: frozenset(BlockedAddress.objects.values_list("email_normalized", flat=True))
    )
    return email_normalized in kept


def watchlist() -> list[tuple[int, str, tuple[str, ...]]]:
    """Every watchlist entry as the matcher takes it: (id, name, aliases). A small table, read whole."""

    def load() -> list[tuple[int, str, tuple[str, ...]]]:
        return [(entry.pk, entry.name, tuple(entry.alias_list())) for entry in WatchlistEntry.objects.order_by("pk")]

    return _kept_or_load("watchlist", load)


def privacy_notice_version() -> str | None:
    """The version of the privacy notice in force, or None when organizers wrote none."""

    def load() -> str | None:
        notice = PrivacyNotice.current()
        return notice.version if notice else None

    return _kept_or_load("privacy_notice_version", load)


def professions(letter: Letter) -> list[Profession]:
    """The professions a signer of `letter` picks from, in the organizers' order (read-only instances)."""
    return _kept_or_load(f"professions:{letter.pk}", lambda: list(letter.professions.all()))


def custom_questions(letter: Letter) -> list[CustomQuestion]:
    """The organizers' extra questions on `letter`'s sign form, in their order (read-only instances)."""
    return _kept_or_load(f"questions:{letter.pk}", lambda: list(letter.custom_questions.all()))


def blank_sign_form_html(letter: Letter, variant: str, draw: Callable[[], str]) -> str:
    """
    The fields of `letter`'s blank sign form as HTML (`variant` names the form and
    the language), kept as long as the professions and questions they are drawn
    from: Django's widget templates cost about 5 ms of CPU per letter page view
    (bench/page_cost.py), and a blank form is the same for every visitor (its
    CSRF token and stamp are drawn apart, by `{% sign_form_guard %}`).
    """
    return _kept_or_load(f"blank_sign_form:{letter.pk}:{variant}", draw)


def current_version(letter: Letter) -> LetterVersion | None:
    """
    The letter's latest published version. Versions never change once
    published, and the kept one is used only while its number is the letter's
    `version_count` as just read from the database, so a new version shows at once.
    """

    def load() -> LetterVersion | None:
        return LetterVersion.objects.filter(letter=letter).order_by("-number").first()

    if not _keeping():
        return load()
    name = f"version:{letter.pk}:{letter.version_count}"
    version = _kept_or_load(name, load)
    if version is None or version.number != letter.version_count:
        with _lock:
            _kept.pop(name, None)
        return load()
    return version


def connect_signals() -> None:

    for model in (
        AllowedDomain,
        AllowedNetwork,
        BlockedAddress,
        BlockedDomain,
        CustomQuestion,
        LetterVersion,
        PrivacyNotice,
        Profession,
        WatchlistEntry,
    ):
        post_save.connect(forget, sender=model, dispatch_uid=f"organizer_data.save.{model.__name__}")
        post_delete.connect(forget, sender=model, dispatch_uid=f"organizer_data.delete.{model.__name__}")

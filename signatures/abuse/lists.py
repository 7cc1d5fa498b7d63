"""The organizers' block lists and watchlist, as a sign attempt meets them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from signatures.abuse.impersonation import Entry, mixed_script_reason, watchlist_match
from signatures.abuse.limits import domain_and_parents
from signatures.caching import organizer_data
from signatures.models import CaughtSubmission, Signature


def blocklist_reason(email_normalized: str) -> str:
    """The CaughtSubmission reason if organizers blocked this address or its domain, else ''."""
    if organizer_data.is_blocked_address(email_normalized):
        return CaughtSubmission.Reason.BLOCKED_ADDRESS
    domain = email_normalized.rpartition("@")[2]
    if domain and organizer_data.is_blocked_domain(domain_and_parents(domain)):
        return CaughtSubmission.Reason.BLOCKED_DOMAIN
    return ""


@dataclass(frozen=True)
class NameHold:
    """Why a name waits for a moderator: the hold reason, the words a moderator reads, the entry matched."""

    reason: str
    detail: str
    entry_id: int | None = None


def name_hold(full_name: str, entries: Iterable[Entry] | None = None) -> NameHold | None:
    """
    A hold for a name a reader could take for someone on the watchlist
    (`entries`, the whole watchlist by default), or for a word that mixes
    alphabets (a Cyrillic letter a in a Latin name fools the eye on any letter,
    watchlist or not); None for an ordinary name.
    """
    match = watchlist_match(full_name, organizer_data.watchlist() if entries is None else entries)
    if match is not None:
        return NameHold(Signature.HoldReason.WATCHLIST, match.reason[:300], match.entry_id)
    mixed = mixed_script_reason(full_name)
    if mixed is not None:
        return NameHold(Signature.HoldReason.MIXED_SCRIPT, mixed[:300])
    return None

"""The organizers' block lists, as a sign attempt meets them."""

from __future__ import annotations

from signatures.abuse.limits import domain_and_parents
from signatures.caching import organizer_data
from signatures.models import CaughtSubmission


def blocklist_reason(email_normalized: str) -> str:
    """The CaughtSubmission reason if organizers blocked this address or its domain, else ''."""
    if organizer_data.is_blocked_address(email_normalized):
        return CaughtSubmission.Reason.BLOCKED_ADDRESS
    domain = email_normalized.rpartition("@")[2]
    if domain and organizer_data.is_blocked_domain(domain_and_parents(domain)):
        return CaughtSubmission.Reason.BLOCKED_DOMAIN
    return ""

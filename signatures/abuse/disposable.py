"""Throwaway-mail domains, from the maintained `disposable-email-domains` list."""

from __future__ import annotations

from disposable_email_domains import blocklist

from signatures.abuse.limits import domain_and_parents


def is_disposable_domain(domain: str) -> bool:
    """True for a throwaway-mail domain or any subdomain of one."""
    return any(candidate in blocklist for candidate in domain_and_parents(domain))

"""Abuse defences: limits, bot friction, disposable domains, client address, impersonation."""

"""
Optional error reports to Sentry (or any service that speaks its protocol).

Off unless `SENTRY_DSN` is set. An error report carries what the code was
holding when it failed: exception messages, local variables, the request's
URL, log lines leading up to it. Those hold signers' email addresses and the
tokens of emailed links, so no personal data is attached on purpose
(`send_default_pii=False`) and every string in an event goes through the
same redaction as our log lines before it leaves the process.

Settings call `start_error_reports` while they load, so this module imports
nothing from Django.
"""

from __future__ import annotations

from typing import Any

import sentry_sdk

from .redaction import redact


def start_error_reports(*, dsn: str, environment: str, release: str | None, traces_sample_rate: float) -> bool:
    """Start reporting errors to `dsn`; an empty DSN starts nothing. Returns whether it started."""
    if not dsn:
        return False
    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=release or None,
        send_default_pii=False,
        before_send=redact_event,
        before_send_transaction=redact_event,
        before_breadcrumb=redact_breadcrumb,
        traces_sample_rate=traces_sample_rate,
    )
    return True


# Set by the deployment, not by a signer; a release such as "undersigned@1.2"
# is shaped like an address and would otherwise be redacted.
_OWN_FIELDS = ("release", "environment")


def redact_event(event: Any, hint: dict[str, Any]) -> Any:
    redacted = redact_strings(event)
    redacted.update({field: event[field] for field in _OWN_FIELDS if field in event})
    return redacted


def redact_breadcrumb(crumb: Any, hint: dict[str, Any]) -> Any:
    return redact_strings(crumb)


def redact_strings(value: Any) -> Any:
    """The same structure with every string (keys too) redacted, however deep."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {redact_strings(key): redact_strings(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [redact_strings(item) for item in value]
    return value

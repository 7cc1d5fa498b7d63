"""
What the email provider tells us after a send, through anymail's tracking
webhooks (mounted at /anymail/, each verified by anymail: the provider's
signature, or WEBHOOK_SECRET basic auth). Hard bounces, spam complaints and
provider-level unsubscribes put the address on the suppression list; soft
bounces ("deferred") change nothing, since the provider retries those itself.
"""

from __future__ import annotations

import logging
from typing import Any

from anymail.signals import AnymailTrackingEvent, EventType, tracking
from django.dispatch import receiver

from signatures import services
from signatures.models import SuppressedAddress

logger = logging.getLogger(__name__)

SUPPRESSING_EVENTS = {
    EventType.BOUNCED: SuppressedAddress.Reason.BOUNCED,
    EventType.COMPLAINED: SuppressedAddress.Reason.COMPLAINED,
    EventType.UNSUBSCRIBED: SuppressedAddress.Reason.UNSUBSCRIBED,
}


@receiver(tracking, dispatch_uid="signatures.webhooks.suppress_on_bounce")
def suppress_on_bounce(sender: Any, event: AnymailTrackingEvent, esp_name: str, **kwargs: Any) -> None:
    reason = SUPPRESSING_EVENTS.get(event.event_type)
    if reason is None or not event.recipient:
        return
    added = services.suppress_address(
        email=event.recipient,
        reason=reason,
        provider=esp_name,
        event_id=event.event_id or "",
        description=event.description or event.mta_response or "",
    )
    # The event, not the address: logs never carry addresses.
    logger.info("%s event %s from %s (%s)", event.event_type, event.event_id, esp_name, "new" if added else "known")

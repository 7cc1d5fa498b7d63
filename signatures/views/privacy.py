"""The privacy notice organizers edit in the admin (`PrivacyNotice`)."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from signatures.models import PrivacyNotice


def _contact_url(contact: str) -> str:
    # An address becomes a mailto: link and a web page a link; anything else (a postal address) stays text.
    if contact.startswith(("https://", "http://")):
        return contact
    if "@" in contact and " " not in contact:
        return f"mailto:{contact}"
    return ""


@require_safe
def privacy_notice(request: HttpRequest) -> HttpResponse:
    contact = settings.SIGNATURES_PRIVACY_CONTACT.strip()
    context = {
        "data_controller": settings.SIGNATURES_DATA_CONTROLLER.strip(),
        "privacy_contact": contact,
        "privacy_contact_url": _contact_url(contact),
        "notice": PrivacyNotice.current(),
        "ip_retention_days": settings.SIGNATURES_IP_HASH_RETENTION_DAYS,
        "unconfirmed_retention_days": settings.SIGNATURES_UNCONFIRMED_RETENTION_DAYS,
    }
    return render(request, "signatures/privacy.html", context)

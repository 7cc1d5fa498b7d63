"""The privacy notice organizers edit in the admin (`PrivacyNotice`)."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from signatures.models import PrivacyNotice


@require_safe
def privacy_notice(request: HttpRequest) -> HttpResponse:
    context = {
        "notice": PrivacyNotice.current(),
        "ip_retention_days": settings.SIGNATURES_IP_HASH_RETENTION_DAYS,
        "unconfirmed_retention_days": settings.SIGNATURES_UNCONFIRMED_RETENTION_DAYS,
    }
    return render(request, "signatures/privacy.html", context)

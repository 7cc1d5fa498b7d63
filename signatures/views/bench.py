"""The benchmark's baseline: Django's whole stack and nothing else. Routed only when SIGNATURES_BENCH=1."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_safe


@require_safe
def baseline(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")

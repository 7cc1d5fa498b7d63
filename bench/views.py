"""Our trivial view: the cost of our middleware and server configuration with no page behind it."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_safe


@require_safe
def baseline(request: HttpRequest) -> HttpResponse:
    return HttpResponse("hello", content_type="text/plain")

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST, require_safe

from .models import Hit


@require_safe
def hello(request: HttpRequest) -> HttpResponse:
    return HttpResponse("hello", content_type="text/plain")


# wrk sends no CSRF token; the anchor is the ORM insert, not the token check.
@csrf_exempt
@require_POST
def insert(request: HttpRequest) -> HttpResponse:
    hit = Hit.objects.create()
    return HttpResponse(str(hit.pk), content_type="text/plain")

"""
Probes for load balancers, orchestrators and monitoring.

- `/healthz`: the process is up and answering. No database: a database outage
  must not make an orchestrator kill and restart every healthy web process.
- `/readyz`: this process can serve — the database answers and has every
  migration: plain "ok" (200) or "fail" (503). With the bearer token
  `SIGNATURES_READYZ_TOKEN`, the operator also gets the details and the email
  queue's depth, oldest age and failures, as JSON. Not by address: behind a
  proxy on the same host every visitor arrives from loopback.

`HealthProbeMiddleware`, first in MIDDLEWARE, answers both paths before host
validation, the HTTPS redirect and rate limits: probes come from inside the
platform, by IP address and plain HTTP, and must never be throttled.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.crypto import constant_time_compare
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from signatures.ops import monitoring


def _probe_headers(response: HttpResponse) -> HttpResponse:
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


@never_cache
@require_safe
def healthz(request: HttpRequest) -> HttpResponse:
    return _probe_headers(HttpResponse("ok\n", content_type="text/plain; charset=utf-8"))


@never_cache
@require_safe
def readyz(request: HttpRequest) -> HttpResponse:
    is_ready, report = monitoring.readiness()
    status = 200 if is_ready else 503
    if not is_operator(request):
        # Queue depth and failures tell a stranger how the campaign is doing
        # and when a flood is working: the answer alone is enough to route by.
        return _probe_headers(
            HttpResponse("ok\n" if is_ready else "fail\n", content_type="text/plain; charset=utf-8", status=status)
        )
    report = {"status": "ok" if is_ready else "fail", **report}
    return _probe_headers(JsonResponse(report, status=status))


def is_operator(request: HttpRequest) -> bool:
    """Whether the request carries `Authorization: Bearer <SIGNATURES_READYZ_TOKEN>` (never, when it is unset)."""
    token = settings.SIGNATURES_READYZ_TOKEN
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return bool(token) and scheme.lower() == "bearer" and constant_time_compare(given.strip(), token)


PROBES: dict[str, Callable[[HttpRequest], HttpResponse]] = {"/healthz": healthz, "/readyz": readyz}


class HealthProbeMiddleware:
    """Answer /healthz and /readyz before anything that could refuse or throttle a probe."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        probe = PROBES.get(request.path_info.rstrip("/") or "/")
        if probe is not None:
            return probe(request)
        return self.get_response(request)

"""
Probes for load balancers, orchestrators and monitoring.

- `/healthz`: the process is up and answering. No database: a database outage
  must not make an orchestrator kill and restart every healthy web process.
- `/readyz`: this process can serve — the database answers and has every
  migration — plus the email queue's depth and oldest age, as JSON.

`HealthProbeMiddleware`, first in MIDDLEWARE, answers both paths before host
validation, the HTTPS redirect and rate limits: probes come from inside the
platform, by IP address and plain HTTP, and must never be throttled.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse
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
    report = {"status": "ok" if is_ready else "fail", **report}
    return _probe_headers(JsonResponse(report, status=200 if is_ready else 503))


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

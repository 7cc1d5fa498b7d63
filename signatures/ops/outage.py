"""
When the database goes away (a restart, a failover, a network blip), people
get a short, plain "try again in a moment" page with `Retry-After` and status
503 — never a traceback or a 500 — and the letter page keeps showing the last
text and count this process rendered. Nothing here needs the database.

Recovery needs nothing from us: Django drops a broken connection at the end
of the request (`CONN_HEALTH_CHECKS` tests a reused one before its first
query), so the first request after the database returns reconnects.

A sign attempt that meets the outage answers 503 and says the signature was
not recorded: a success page is only ever sent after the signature committed.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

from django.core.cache import caches
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.urls import Resolver404, resolve
from django.utils import translation
from django.views import defaults

logger = logging.getLogger(__name__)

# psycopg2's "connection refused", "server closed the connection", "the
# connection is already closed" and a statement timeout all arrive as one of these.
DATABASE_OUTAGE_ERRORS = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 10
# A local-memory cache by default: the shared (database) cache is down too.
SNAPSHOT_CACHE = "fallback"
SNAPSHOT_SECONDS = 24 * 60 * 60

_PLAIN_503: str = (
    "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Back in a moment</title></head>"
    "<body><h1>Back in a moment</h1><p>The site is briefly unavailable. Please try again in a minute.</p>"
    "</body></html>"
)


def _snapshot_key(slug: str, language: str | None) -> str:
    return f"letter-snapshot:{slug}:{language or ''}"


def remember_letter(letter: Any) -> None:
    """Keep what the letter page showed (public fields only) for when the database is away."""
    body_html = getattr(letter, "published_body_html", None) or letter.body_html
    snapshot = {
        "slug": letter.slug,
        "title": letter.title,
        "addressee": letter.addressee,
        "summary": letter.summary,
        "body_html": body_html,
        "public_count": letter.public_count,
        "goal": letter.goal,
        "goal_percent": letter.goal_percent,
        "content_language": getattr(letter, "content_language", "") or "",
    }
    caches[SNAPSHOT_CACHE].set(_snapshot_key(letter.slug, translation.get_language()), snapshot, SNAPSHOT_SECONDS)


def letter_snapshot(slug: str) -> dict[str, Any] | None:
    cache = caches[SNAPSHOT_CACHE]
    return cache.get(_snapshot_key(slug, translation.get_language())) or cache.get(_snapshot_key(slug, None))


def _unavailable(request: HttpRequest) -> HttpResponse:
    try:
        # No request context: context processors may want the database.
        content: str = render_to_string("signatures/unavailable.html", {"is_sign_attempt": request.method == "POST"})
    except Exception:  # the plain page must never fail
        logger.exception("could not render the unavailable page")
        content = _PLAIN_503
    response = HttpResponse(content, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    # A CDN or browser must not keep serving the outage page once we are back.
    response["Cache-Control"] = "no-store"
    return response


def _letter_from_snapshot(request: HttpRequest, slug: str) -> HttpResponse | None:
    snapshot = letter_snapshot(slug)
    if snapshot is None:
        return None
    try:
        content = render_to_string("signatures/letter_offline.html", {"letter": snapshot}, request=request)
    except DATABASE_OUTAGE_ERRORS:
        # A context processor or template tag wanted the database after all.
        return None
    response = HttpResponse(content)
    response["Cache-Control"] = "no-store"
    return response


def outage_response(request: HttpRequest) -> HttpResponse:
    """The letter page from its snapshot when there is one, otherwise the 503 page."""
    if request.method in ("GET", "HEAD"):
        try:
            match = resolve(request.path_info)
        except Resolver404:
            match = None
        if match is not None and match.view_name == "signatures:letter":
            response = _letter_from_snapshot(request, match.kwargs["slug"])
            if response is not None:
                return response
    return _unavailable(request)


def _log_outage(request: HttpRequest, exception: BaseException) -> None:
    # One line per request, no traceback: during an outage every request fails alike.
    first_line = (str(exception).strip().splitlines() or [""])[0]
    logger.warning(
        "database unavailable, answered 503 for %s %s: %s: %s",
        request.method,
        request.path,
        type(exception).__name__,
        first_line,
    )


class DatabaseOutageMiddleware:
    """Turn a lost database connection in a view into the outage response instead of a 500."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, DATABASE_OUTAGE_ERRORS):
            return None
        _log_outage(request, exception)
        return outage_response(request)


def server_error(request: HttpRequest, template_name: str = defaults.ERROR_500_TEMPLATE_NAME) -> HttpResponse:
    """handler500: a database error raised outside a view (in a middleware) still answers 503."""
    exception = sys.exc_info()[1]
    if isinstance(exception, DATABASE_OUTAGE_ERRORS):
        return outage_response(request)
    return defaults.server_error(request, template_name)

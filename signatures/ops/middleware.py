"""Security middleware: request guards, headers Django does not set, staff idle timeout."""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import unquote_to_bytes

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode

# Paths reached by an emailed token: never cached, never indexed.
TOKEN_PATH_PREFIXES = ("/confirm/", "/withdraw/", "/reaffirm/", "/invitation/")


def _is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


class RequestGuardMiddleware:
    """
    Refuse, before any work: a body declared larger than
    DATA_UPLOAD_MAX_MEMORY_SIZE (413, the body is never read), and a path,
    query string or form body that is not valid UTF-8 (400) — Django would
    otherwise quietly replace the bad bytes and carry on.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return HttpResponseBadRequest("Bad Content-Length.", content_type="text/plain")
        cap = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if request.method == "POST" and request.path == reverse("admin:signatures_importrun_add"):
            # An organizer's spreadsheet of signatures gathered elsewhere.
            cap = settings.SIGNATURES_IMPORT_MAX_BYTES
        if cap is not None and length > cap:
            response = HttpResponse("Request body too large.", status=413, content_type="text/plain")
            response["Connection"] = "close"
            return response
        # WSGI servers give PATH_INFO as latin-1 text of the raw bytes; some
        # (and Django's test client) leave it percent-encoded: decode both ways.
        raw_path = unquote_to_bytes(request.META.get("PATH_INFO", "").encode("latin-1", errors="replace"))
        raw_query = unquote_to_bytes(request.META.get("QUERY_STRING", "").replace("+", " "))
        if not (_is_utf8(raw_path) and _is_utf8(raw_query)):
            return HttpResponseBadRequest("Invalid encoding.", content_type="text/plain")
        is_form_post = request.method == "POST" and request.content_type == "application/x-www-form-urlencoded"
        if is_form_post and not _is_utf8(unquote_to_bytes(request.body.replace(b"+", b" "))):
            return HttpResponseBadRequest("Invalid encoding.", content_type="text/plain")
        return self.get_response(request)


class SecurityHeadersMiddleware:
    """
    Headers Django does not set itself: Cross-Origin-Resource-Policy on every
    response; `X-Robots-Tag: noindex` on the admin and on token pages; and
    `Cache-Control: no-store` on token pages (a shared computer's cache must
    not keep a page reached by someone's private link).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        # Public exports and embeds are meant for other sites; everything else is ours alone.
        shared = response.get("Access-Control-Allow-Origin") == "*" or getattr(
            response, "xframe_options_exempt", False
        )
        response.setdefault("Cross-Origin-Resource-Policy", "cross-origin" if shared else "same-origin")
        path = request.path_info
        is_token_page = path.startswith(TOKEN_PATH_PREFIXES)
        if is_token_page or path.startswith("/" + settings.ADMIN_URL):
            response["X-Robots-Tag"] = "noindex, nofollow"
        if is_token_page:
            response["Cache-Control"] = "no-store, no-cache, must-revalidate, max-age=0, private"
        return response


class StaffIdleTimeoutMiddleware:
    """Sign staff out after SIGNATURES_STAFF_IDLE_TIMEOUT_MINUTES without a request."""

    SESSION_KEY = "_staff_last_seen"

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if settings.SESSION_COOKIE_NAME not in request.COOKIES:
            # No session, so no staff: not touching request.user keeps the
            # session unread, so public pages do not Vary on Cookie and a CDN
            # can keep them.
            return self.get_response(request)
        user = getattr(request, "user", None)
        timeout = settings.SIGNATURES_STAFF_IDLE_TIMEOUT_MINUTES * 60
        if user is not None and user.is_authenticated and user.is_staff and timeout > 0:
            now = int(time.time())
            last_seen = request.session.get(self.SESSION_KEY)
            if last_seen is not None and now - int(last_seen) > timeout:
                logout(request)
                login_url = reverse("admin:login")
                return redirect(f"{login_url}?{urlencode({'next': request.get_full_path()})}")
            # Written at most once a minute, so a busy moderator does not save the session on every click.
            if last_seen is None or now - int(last_seen) >= 60:
                request.session[self.SESSION_KEY] = now
        return self.get_response(request)

"""
Input no layer below us can take, refused with a clear 400 page, and the
security headers on every answer Django gives, whichever layer wrote it.

- A NUL character anywhere a value comes from (the path, the query string, a
  form field, a cookie): PostgreSQL refuses NUL in text, so a search, a login
  or a session lookup carrying one would fail with a 500. No person types
  one; refusing it at the door keeps every view and the admin safe at once.
- A request that declares a charset other than UTF-8: our pages and forms are
  UTF-8, RequestGuardMiddleware checks the bytes as UTF-8, and Django would
  decode the query and form with the declared codec — some of which (rot13,
  base64, zlib…) are no text encodings at all and raise.
- Probes, the outage page and the request guard answer before the middleware
  that adds security headers runs; the outermost middleware here adds the
  ones still missing, and the Content-Security-Policy on every answer.
"""

from __future__ import annotations

import codecs
from collections.abc import Callable
from urllib.parse import unquote_to_bytes

from csp.constants import HEADER as CSP_HEADER
from csp.constants import HEADER_REPORT_ONLY as CSP_REPORT_ONLY_HEADER
from csp.utils import build_policy
from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.utils.html import escape
from django.utils.http import parse_header_parameters

# The one codec a form or query string may declare: our pages and forms are UTF-8.
ACCEPTED_CHARSETS = frozenset({"utf-8"})

_BAD_REQUEST_PAGE = (
    "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Bad request</title></head>"
    "<body><h1>Bad request</h1><p>{reason}</p><p>Please go back and try again.</p></body></html>"
)


def bad_request(reason: str) -> HttpResponse:
    """A plain 400 page saying what was wrong; it needs no template, context processor or database."""
    return HttpResponseBadRequest(_BAD_REQUEST_PAGE.format(reason=escape(reason)))


def declared_charset_is_accepted(content_type: str) -> bool:
    _media_type, params = parse_header_parameters(content_type)
    charset = params.get("charset")
    if charset is None:
        return True
    try:
        return codecs.lookup(charset).name in ACCEPTED_CHARSETS
    except (LookupError, ValueError):  # unknown, or not even a codec name (a NUL in it)
        return False


def _has_nul_encoded(raw: str | bytes) -> bool:
    data = raw.encode("latin-1", errors="replace") if isinstance(raw, str) else raw
    return b"\x00" in unquote_to_bytes(data)


FORM_CONTENT_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
# Where refuse_foreign_charsets leaves a charset it took out of CONTENT_TYPE.
REFUSED_CHARSET_KEY = "signatures.refused_charset"


def refuse_foreign_charsets(application: Callable) -> Callable:
    """
    WSGI: take a charset we do not accept out of CONTENT_TYPE before Django
    builds its request, and leave it for RequestHygieneMiddleware to refuse.
    Django applies a declared charset while it builds the request, and a
    codec that is no text encoding (hex, rot13, zlib…) raises there, before
    any middleware could answer: gunicorn then sent its bare 500 page.
    """

    def wsgi(environ: dict, start_response: Callable) -> object:
        content_type = environ.get("CONTENT_TYPE", "")
        if not declared_charset_is_accepted(content_type):
            media_type, params = parse_header_parameters(content_type)
            environ[REFUSED_CHARSET_KEY] = params.get("charset", "")
            environ["CONTENT_TYPE"] = media_type
        return application(environ, start_response)

    return wsgi


class RequestHygieneMiddleware:
    """Answer 400 to a NUL in any value or a charset other than UTF-8, before anything reads them."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if REFUSED_CHARSET_KEY in request.META or not declared_charset_is_accepted(
            request.META.get("CONTENT_TYPE", "")
        ):
            return bad_request("This site accepts text in UTF-8 only.")
        if "\x00" in request.path_info or _has_nul_encoded(request.META.get("QUERY_STRING", "")):
            return bad_request("The address contains a character that is not allowed (NUL).")
        if any("\x00" in name or "\x00" in value for name, value in request.COOKIES.items()):
            return bad_request("A cookie contains a character that is not allowed (NUL). Clear this site's cookies.")
        # The same parse the CSRF check does next; a body too large was refused already.
        is_form = request.method == "POST" and request.content_type in FORM_CONTENT_TYPES
        if is_form and any("\x00" in name or "\x00" in v for name, values in request.POST.lists() for v in values):
            return bad_request("The form contains a character that is not allowed (NUL).")
        return self.get_response(request)


class BaselineSecurityHeadersMiddleware:
    """
    Outermost: the Content-Security-Policy (CONTENT_SECURITY_POLICY, and
    CONTENT_SECURITY_POLICY_REPORT_ONLY when set) on every answer whose view
    did not set its own, and the headers SecurityMiddleware and
    XFrameOptionsMiddleware add, on the answers written before they run
    (probes, the outage page, the request guard).

    The policy is the same for every answer: it is built with django-csp's
    own `build_policy` once per process (again only when the setting is
    replaced), where django-csp's middleware built it for every response —
    some 35 µs, more than our trivial view's own work. So django-csp's
    per-view decorators and `request.csp_nonce` are not available: a view
    that needs another policy sets the header itself (the embed does), and
    no page uses inline script, so none needs a nonce.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self._policies_from: tuple[object, object] | None = None
        self._policies: tuple[str, str] = ("", "")

    def _csp_policies(self) -> tuple[str, str]:
        configured = (
            getattr(settings, "CONTENT_SECURITY_POLICY", None),
            getattr(settings, "CONTENT_SECURITY_POLICY_REPORT_ONLY", None),
        )
        # The same setting objects as last time: the same policies (tests replace the settings, nobody edits them).
        if self._policies_from is None or any(
            now is not before for now, before in zip(configured, self._policies_from, strict=True)
        ):
            self._policies = (build_policy(), build_policy(report_only=True))
            self._policies_from = configured
        return self._policies

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        # As django-csp: Django's debug pages carry inline script and style.
        if not (settings.DEBUG and response.status_code in (404, 500)):
            policy, report_only = self._csp_policies()
            if policy:
                response.setdefault(CSP_HEADER, policy)
            if report_only:
                response.setdefault(CSP_REPORT_ONLY_HEADER, report_only)
        if settings.SECURE_CONTENT_TYPE_NOSNIFF:
            response.setdefault("X-Content-Type-Options", "nosniff")
        policy = settings.SECURE_REFERRER_POLICY
        if policy:
            response.setdefault("Referrer-Policy", policy if isinstance(policy, str) else ",".join(policy))
        if not getattr(response, "xframe_options_exempt", False):
            response.setdefault("X-Frame-Options", settings.X_FRAME_OPTIONS)
        return response

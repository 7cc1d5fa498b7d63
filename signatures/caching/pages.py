"""
Rendered pages kept a few seconds in the shared cache (CACHE_URL), so the
viral hour costs a cache read per visit instead of queries and template work.

`SIGNATURES_PAGE_CACHE_SECONDS` sets how long (0 turns it off: the default in
development and tests, where a change must show at once).

Only anonymous visits are served from it: a request with a session cookie
(staff, a flash message) is rendered afresh. Two kinds of page:

- public pages (the signatory list): kept whole, and only when the response
  was marked public by `caching.public_cache`, so nothing personal is kept;
- the letter page, whose sign form carries the visitor's CSRF token and a
  signed, single-use stamp of when and for whom the form was drawn (`abuse/bots.py`). The letter view
  draws the form with placeholders for those two (`{% sign_form_csrf %}`,
  `{% sign_form_guard %}`), keeps that page, and fills them in for each
  visit with Django's own `get_token`, so no two visitors share a token and
  the fill-time check still counts from this visit. A page that carries a
  CSP nonce (something else personal) is not kept.

Each process also keeps the entries it read for up to
`SIGNATURES_PAGE_CACHE_LOCAL_SECONDS` (1 in production, 0 when DEBUG), never
past the moment the shared entry itself expires: a page is still at most
SIGNATURES_PAGE_CACHE_SECONDS old, and a busy process asks the shared cache
for it once a second instead of on every visit. A letter's generation (see
`forget_letter_pages`) is kept in the process as long: with it, a page kept in
the process costs no round trip to the shared cache at all.

`KeptPageMiddleware` answers an anonymous GET or HEAD of a kept page before
the middleware that only matters to people with a session (authentication,
two-factor, the staff idle timeout, messages, axes), the URL dispatch and the
view. Only the views marked by `shared_public_page` or `kept_letter_page` are
answered there, and anything written outside those decorators is skipped for
them: only `require_safe` may sit outside (a GET or HEAD passes it anyway).
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.middleware.csrf import get_token
from django.urls import Resolver404, resolve
from django.utils import translation
from django.utils.http import quote_etag

# Written by the sign form's template tags where the visitor's token and
# stamp go; NUL cannot reach a page from any field, so it marks them safely.
CSRF_PLACEHOLDER = "\x00csrf-token\x00"
STAMP_PLACEHOLDER = "\x00form-stamp\x00"
_PLACEHOLDERS = re.compile(f"({re.escape(CSRF_PLACEHOLDER)}|{re.escape(STAMP_PLACEHOLDER)})")
# Headers a view sets that must come back with a kept page; middleware adds the rest on the way out.
_KEPT_HEADERS = ("Cache-Control", "Content-Security-Policy", "Access-Control-Allow-Origin", "Content-Disposition")
# Pages kept in this process: {key: (until, entry)}, a few hundred at most
# (a query string makes another key, so anyone can make more).
_local: dict[str, tuple[float, dict[str, Any]]] = {}
_LOCAL_MAX_ENTRIES = 200
_local_lock = threading.Lock()
# Letters' generations read in this process: {slug: (until, generation)}.
_local_generations: dict[str, tuple[float, int]] = {}


def _seconds() -> int:
    return settings.SIGNATURES_PAGE_CACHE_SECONDS


def _cacheable_request(request: HttpRequest) -> bool:
    return (
        _seconds() > 0
        and request.method in ("GET", "HEAD")
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
        and "messages" not in request.COOKIES
    )


def _generation_key(slug: str) -> str:
    return f"page-generation:{slug}"


def _slug(request: HttpRequest) -> str | None:
    match = request.resolver_match
    return match.kwargs.get("slug") if match is not None else None


def _generation(slug: str | None) -> int:
    # Pages of a letter are kept under its current generation: bumping it drops them all at once.
    if not slug:
        return 0
    local_seconds = settings.SIGNATURES_PAGE_CACHE_LOCAL_SECONDS
    if local_seconds <= 0:
        return cache.get(_generation_key(slug), 0)
    # Read from the shared cache at most once a second per process: that read
    # cost more CPU than the rest of serving a page kept in the process.
    now = time.time()
    known = _local_generations.get(slug)
    if known is not None and known[0] > now:
        return known[1]
    generation = cache.get(_generation_key(slug), 0)
    with _local_lock:
        if len(_local_generations) >= _LOCAL_MAX_ENTRIES:
            _local_generations.clear()
        _local_generations[slug] = (now + local_seconds, generation)
    return generation


def _key(kind: str, request: HttpRequest, slug: str | None) -> str:
    path = f"{translation.get_language()}|{_generation(slug)}|{request.get_full_path()}"
    return f"page:{kind}:{hashlib.sha256(path.encode()).hexdigest()}"


def forget_letter_pages(*, slug: str) -> None:
    """
    Drop every page kept for this letter (the letter page, its lists, its
    exports) in the shared cache and this process at once, and, through the
    key, in every other process within SIGNATURES_PAGE_CACHE_LOCAL_SECONDS (the
    time each keeps the generation it read): a withdrawn name must not linger
    for the seconds a page is kept. Browsers and CDNs may still hold their
    copy for its max-age.
    """
    with _local_lock:
        _local_generations.pop(slug, None)
    key = _generation_key(slug)
    try:
        cache.incr(key)
    except ValueError:
        # No generation yet (or evicted): any new number leaves the old keys behind.
        cache.set(key, int(time.time()), None)


def _read(key: str) -> dict[str, Any] | None:
    local_seconds = settings.SIGNATURES_PAGE_CACHE_LOCAL_SECONDS
    if local_seconds <= 0:
        return cache.get(key)
    now = time.time()
    local = _local.get(key)
    if local is not None and local[0] > now:
        return local[1]
    entry = cache.get(key)
    if entry is not None:
        until = min(now + local_seconds, entry.get("kept_until", 0))
        if until > now:
            with _local_lock:
                if len(_local) >= _LOCAL_MAX_ENTRIES:
                    _local.clear()
                _local[key] = (until, entry)
    return entry


def forget_pages_kept_in_process() -> None:
    """Drop this process's copies (the shared entries stay until they expire)."""
    with _local_lock:
        _local.clear()
        _local_generations.clear()


def _write(key: str, entry: dict[str, Any]) -> None:
    content = entry["content"]
    # The ETag ConditionalGetMiddleware would compute from the content, computed
    # once here rather than over the whole page on every visit.
    digest = hashlib.md5(content if isinstance(content, bytes) else content.encode(), usedforsecurity=False)
    cache.set(key, {**entry, "etag": digest.hexdigest(), "kept_until": time.time() + _seconds()}, _seconds())


def _letter_page_parts(entry: dict[str, Any]) -> list[str]:
    # The page split around its placeholders, once per entry this process holds.
    parts = entry.get("parts")
    if parts is None:
        parts = entry["parts"] = _PLACEHOLDERS.split(entry["content"])
    return parts


def _rebuild(entry: dict[str, Any], content: str | bytes) -> HttpResponse:
    response = HttpResponse(content, content_type=entry["content_type"], status=entry["status"])
    for header, value in entry["headers"]:
        response[header] = value
    if entry.get("xframe_options_exempt"):
        response.xframe_options_exempt = True
    return response


def _entry(response: HttpResponseBase) -> dict[str, Any]:
    return {
        "content_type": response["Content-Type"],
        "status": response.status_code,
        "headers": [(header, response[header]) for header in _KEPT_HEADERS if response.has_header(header)],
        "xframe_options_exempt": getattr(response, "xframe_options_exempt", False),
    }


def _carries_csp_nonce(content: str | bytes) -> bool:
    # A nonce is drawn per response; a page that uses one cannot be shared.
    if isinstance(content, bytes):
        return b' nonce="' in content
    return ' nonce="' in content


# Draws the sign form's stamp for (letter id, visitor=the form's CSRF token):
# the view hands in abuse.bots.make_form_stamp, so speed code knows nothing of bots.
FormStamp = Callable[..., str]


@dataclass(frozen=True)
class KeptPageView:
    """What KeptPageMiddleware needs to answer for a view: a letter page needs its form stamp drawer."""

    form_stamp: FormStamp | None = None


# Set on the views whose kept pages KeptPageMiddleware may serve (functools.wraps
# carries it out through `require_safe`).
KEPT_PAGE_VIEW_ATTRIBUTE = "kept_page_view"


def _public_page_from_cache(request: HttpRequest, slug: str | None) -> HttpResponse | None:
    entry = _read(_key("public", request, slug))
    if entry is None:
        return None
    response = _rebuild(entry, entry["content"])
    if "etag" in entry:
        response["ETag"] = quote_etag(entry["etag"])
    return response


def shared_public_page(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """
    Keep a public response whole for SIGNATURES_PAGE_CACHE_SECONDS; serve it to
    every anonymous visitor. Put every decorator that changes the response
    (`xframe_options_exempt`…) inside this one, so the kept page carries its effect.
    """

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not _cacheable_request(request):
            return view(request, *args, **kwargs)
        kept = _public_page_from_cache(request, _slug(request))
        if kept is not None:
            return kept
        drawn = view(request, *args, **kwargs)
        if not isinstance(drawn, HttpResponse):
            return drawn  # streamed: never kept
        response = drawn
        cache_control = response.get("Cache-Control", "")
        if (
            response.status_code == 200
            and not response.streaming
            and "public" in cache_control
            and "private" not in cache_control
            and not response.cookies
            and not _carries_csp_nonce(response.content)
        ):
            _write(_key("public", request, _slug(request)), {**_entry(response), "content": response.content})
        return response

    setattr(wrapped, KEPT_PAGE_VIEW_ATTRIBUTE, KeptPageView())
    return wrapped


def draws_letter_page_for_keeping(request: HttpRequest) -> bool:
    """Whether the letter view should draw its form with placeholders, to keep the page and fill it per visit."""
    return _cacheable_request(request)


def _fill(request: HttpRequest, entry: dict[str, Any], form_stamp: FormStamp) -> tuple[str, str]:
    """The page for this visitor, and what in it is theirs (for its ETag)."""
    token = get_token(request)
    # A stamp of its own for this visit, bound to the token in the same form.
    stamp = form_stamp(entry["letter_id"], visitor=token)
    fill = {CSRF_PLACEHOLDER: token, STAMP_PLACEHOLDER: stamp}
    return "".join([fill.get(part, part) for part in _letter_page_parts(entry)]), f"{token}:{stamp}"


def _letter_page_from_cache(request: HttpRequest, slug: str | None, form_stamp: FormStamp) -> HttpResponse | None:
    entry = _read(_key("letter", request, slug))
    if entry is None:
        return None
    content, personal = _fill(request, entry, form_stamp)
    response = _rebuild(entry, content)
    if "etag" in entry:
        # The page is the kept one with this token and stamp: a digest of those
        # names it as surely as a digest of the whole page, at a fraction of the cost.
        name = f"{entry['etag']}:{personal}"
        response["ETag"] = quote_etag(hashlib.md5(name.encode(), usedforsecurity=False).hexdigest())
    return response


def kept_letter_page(*, form_stamp: FormStamp) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Serve the kept letter page, with this visitor's own CSRF token and form stamp, when there is one."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if _cacheable_request(request):
                kept = _letter_page_from_cache(request, _slug(request), form_stamp)
                if kept is not None:
                    return kept
            return view(request, *args, **kwargs)

        setattr(wrapped, KEPT_PAGE_VIEW_ATTRIBUTE, KeptPageView(form_stamp=form_stamp))
        return wrapped

    return decorator


def keep_and_fill_letter_page(
    request: HttpRequest, response: HttpResponse, *, letter_id: int, form_stamp: FormStamp
) -> HttpResponse:
    """Keep a letter page drawn with placeholders (when it may be kept), and fill them in for this visitor."""
    content = response.content.decode(response.charset)
    entry = {**_entry(response), "content": content, "letter_id": letter_id}
    if response.status_code == 200 and _cacheable_request(request) and not _carries_csp_nonce(content):
        _write(_key("letter", request, _slug(request)), entry)
    response.content, _personal = _fill(request, entry, form_stamp)
    return response


class KeptPageMiddleware:
    """
    Answer an anonymous GET or HEAD of a kept page here, skipping what comes
    after: the middleware below this one only acts on a session (there is
    none: `_cacheable_request`), and the URL dispatch and view would only read
    the same kept page. Everything above it runs as for any answer: the
    security headers, the request id, the host check (CommonMiddleware), the
    language, the CSRF cookie and ETags. Sits just below CsrfViewMiddleware,
    whose cookie the kept letter page hands out.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if _cacheable_request(request):
            try:
                kept = self._kept_page(request)
            except DatabaseError:
                # The database cache is down with the database: the whole stack
                # answers, as it does for any lost database (the outage page, one
                # log line), instead of an error raised from here.
                kept = None
            if kept is not None:
                return kept
        return self.get_response(request)

    @staticmethod
    def _kept_page(request: HttpRequest) -> HttpResponse | None:
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return None
        kept_page_view: KeptPageView | None = getattr(match.func, KEPT_PAGE_VIEW_ATTRIBUTE, None)
        if kept_page_view is None:
            return None
        slug = match.kwargs.get("slug")
        if kept_page_view.form_stamp is None:
            return _public_page_from_cache(request, slug)
        return _letter_page_from_cache(request, slug, kept_page_view.form_stamp)

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
  signed, single-use stamp of when and for whom the form was drawn (`bots.py`). Those two values are
  cut out before the page is kept, and each visit gets its own new ones, so
  no two visitors share a token and the fill-time check still counts from
  this visit. A page whose rendering used anything else personal (a CSP
  nonce) is not kept.

Each process also keeps the entries it read for up to
`SIGNATURES_PAGE_CACHE_LOCAL_SECONDS` (1 in production, 0 when DEBUG), never
past the moment the shared entry itself expires: a page is still at most
SIGNATURES_PAGE_CACHE_SECONDS old, and a busy process asks the shared cache
for it once a second instead of on every visit.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import threading
import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.middleware.csrf import CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH, _unmask_cipher_token
from django.utils import translation
from django.utils.http import quote_etag

from signatures.abuse.bots import STAMP_FIELD, make_form_stamp, visitor_drawing_form

# Anything shaped like a masked CSRF token; the ones that unmask to this
# visitor's secret are cut out, wherever the template put them.
_TOKEN_LIKE = re.compile(r"(?<![A-Za-z0-9])[A-Za-z0-9]{64}(?![A-Za-z0-9])")
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


def _seconds() -> int:
    return settings.SIGNATURES_PAGE_CACHE_SECONDS


def _cacheable_request(request: HttpRequest) -> bool:
    return (
        _seconds() > 0
        and request.method in ("GET", "HEAD")
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
        and "messages" not in request.COOKIES
    )


def _key(kind: str, request: HttpRequest) -> str:
    digest = hashlib.sha256(f"{translation.get_language()}|{request.get_full_path()}".encode()).hexdigest()
    return f"page:{kind}:{digest}"


_CSRF_CHAR_INDEX = {char: index for index, char in enumerate(CSRF_ALLOWED_CHARS)}
# Bytes from here up would favour the first characters of the alphabet.
_CSRF_UNBIASED_BELOW = 256 - 256 % len(CSRF_ALLOWED_CHARS)


def _random_csrf_string() -> str:
    # What Django's get_random_string(32, CSRF_ALLOWED_CHARS) gives (uniform, from
    # the OS's random source), drawn in one read instead of one per character.
    chars: list[str] = []
    while len(chars) < CSRF_SECRET_LENGTH:
        size = len(CSRF_ALLOWED_CHARS)
        chars += [CSRF_ALLOWED_CHARS[byte % size] for byte in secrets.token_bytes(48) if byte < _CSRF_UNBIASED_BELOW]
    return "".join(chars[:CSRF_SECRET_LENGTH])


def csrf_token(request: HttpRequest) -> str:
    """
    What `django.middleware.csrf.get_token` returns and does: a masked token for
    the visitor's secret, a new secret (and cookie) when they have none, the
    cookie renewed. Django draws each of the 64 random characters with its own
    system call; on a kept letter page that was the largest cost of the visit.
    """
    if "CSRF_COOKIE" in request.META:
        secret = request.META["CSRF_COOKIE"]
        request.META["CSRF_COOKIE_NEEDS_UPDATE"] = True
    else:
        secret = _random_csrf_string()
        request.META.update({"CSRF_COOKIE": secret, "CSRF_COOKIE_NEEDS_UPDATE": True})
    mask = _random_csrf_string()
    size = len(CSRF_ALLOWED_CHARS)
    cipher = "".join(
        CSRF_ALLOWED_CHARS[(_CSRF_CHAR_INDEX[s] + _CSRF_CHAR_INDEX[m]) % size]
        for s, m in zip(secret, mask, strict=True)
    )
    return mask + cipher


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


def _used_csp_nonce(request: HttpRequest) -> bool:
    # django-csp draws a nonce only when a template asks for one.
    return bool(getattr(request, "_csp_nonce", None))


def shared_public_page(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Keep a public response whole for SIGNATURES_PAGE_CACHE_SECONDS; serve it to every anonymous visitor."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not _cacheable_request(request):
            return view(request, *args, **kwargs)
        key = _key("public", request)
        entry = _read(key)
        if entry is not None:
            response = _rebuild(entry, entry["content"])
            if "etag" in entry:
                response["ETag"] = quote_etag(entry["etag"])
            return response
        response = view(request, *args, **kwargs)
        cache_control = response.get("Cache-Control", "")
        if (
            response.status_code == 200
            and not response.streaming
            and "public" in cache_control
            and "private" not in cache_control
            and not response.cookies
            and not _used_csp_nonce(request)
        ):
            _write(key, {**_entry(response), "content": response.content})
        return response

    return wrapped


def letter_page_from_cache(request: HttpRequest) -> HttpResponse | None:
    """The kept letter page with this visitor's own CSRF token and form stamp, or None."""
    if not _cacheable_request(request):
        return None
    entry = _read(_key("letter", request))
    if entry is None:
        return None

    token = csrf_token(request)
    # A stamp of its own for this visit, bound to this visitor's CSRF secret.
    stamp = make_form_stamp(entry["letter_id"], visitor=visitor_drawing_form(request))
    fill = {CSRF_PLACEHOLDER: token, STAMP_PLACEHOLDER: stamp}
    content = "".join([fill.get(part, part) for part in _letter_page_parts(entry)])
    response = _rebuild(entry, content)
    if "etag" in entry:
        # The page is the kept one with this token and stamp: that names it as
        # surely as a digest of the whole page, at a fraction of the cost.
        name = f"{entry['etag']}:{fill[CSRF_PLACEHOLDER]}:{fill[STAMP_PLACEHOLDER]}"
        response["ETag"] = quote_etag(hashlib.md5(name.encode(), usedforsecurity=False).hexdigest())
    return response


def keep_letter_page(request: HttpRequest, response: HttpResponseBase, *, letter_id: int) -> None:
    """Keep a freshly drawn letter page, its visitor's token and form stamp cut out."""
    if not _cacheable_request(request) or response.status_code != 200 or _used_csp_nonce(request):
        return

    content = response.content.decode(response.charset)
    secret = request.META.get("CSRF_COOKIE")
    if secret:
        # Tokens are masked afresh each time one is asked for: several forms, several tokens.
        for candidate in set(_TOKEN_LIKE.findall(content)):
            if _unmask_cipher_token(candidate) == secret:
                content = content.replace(candidate, CSRF_PLACEHOLDER)
    stamp_input = re.compile(rf'name="{re.escape(STAMP_FIELD)}" value="([^"]+)"')
    for stamp in set(stamp_input.findall(content)):
        content = content.replace(stamp, STAMP_PLACEHOLDER)
    entry = {**_entry(response), "content": content, "letter_id": letter_id}
    _write(_key("letter", request), entry)

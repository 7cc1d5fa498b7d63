"""
HTTP caching for public pages, without ever sharing one visitor's page.

A page may be kept by browsers and CDNs only if nothing in it belongs to the
visitor. The tell is the CSRF token: any form that posts carries one, tied to
the visitor's cookie. `public_cache` marks a response public only when the
rendering did not ask for a token, and private otherwise, so a template that
later grows a form cannot leak its tokens (or its error messages) through a
shared cache.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponseBase
from django.utils.cache import patch_cache_control, patch_vary_headers


def used_csrf_token(request: HttpRequest) -> bool:
    # django.middleware.csrf.get_token() sets this whenever a token is handed out.
    return bool(request.META.get("CSRF_COOKIE_NEEDS_UPDATE"))


def make_private(response: HttpResponseBase) -> None:
    """This response is for this visitor only: no shared cache keeps it, the browser revalidates it."""
    patch_cache_control(response, private=True, no_cache=True, max_age=0)
    patch_vary_headers(response, ("Cookie",))


def public_cache(max_age: int) -> Callable:
    """Let browsers and CDNs keep the response `max_age` seconds, unless it turned out to be personal."""

    def decorator(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            response = view(request, *args, **kwargs)
            if used_csrf_token(request) or response.cookies or response.status_code >= 500:
                make_private(response)
            elif not response.has_header("Cache-Control"):
                patch_cache_control(response, public=True, max_age=max_age)
            return response

        return wrapped

    return decorator

"""Facts about the client making a request."""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def _valid_ip(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def client_ip(request: HttpRequest) -> str | None:
    """
    The client's IP address: the socket's peer, or, behind
    `SIGNATURES_TRUSTED_PROXY_COUNT` proxies, the address the outermost
    trusted proxy saw.

    X-Forwarded-For is read from the right: each trusted proxy appends the
    address it received the request from, so with N proxies the N-th entry from
    the right is the client. Anything further left was written by the client
    and is ignored, so a forged header cannot dodge a limit.
    """
    remote = _valid_ip(request.META.get("REMOTE_ADDR", "") or "")
    trusted = settings.SIGNATURES_TRUSTED_PROXY_COUNT
    if trusted <= 0:
        return remote
    forwarded = [part for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if len(forwarded) < trusted:
        # Fewer hops than proxies: the request did not come through them all.
        return remote
    return _valid_ip(forwarded[-trusted]) or remote

"""
gunicorn's workers, with our security headers on the error pages gunicorn
writes itself: a request line or header its HTTP parser refuses (raw bytes
outside ASCII, a NUL, an oversize line) never reaches Django, so no
middleware can add them. gunicorn.conf.py picks the one for its thread count.

Loaded by the gunicorn master: nothing here may import Django.
"""

from __future__ import annotations

from typing import Any

from gunicorn.workers.gthread import ThreadWorker
from gunicorn.workers.sync import SyncWorker

# gunicorn's error page is a tiny HTML page without styles, scripts or images.
ERROR_PAGE_HEADERS = (
    b"Content-Security-Policy: default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'\r\n"
    b"X-Content-Type-Options: nosniff\r\n"
    b"X-Frame-Options: DENY\r\n"
    b"Referrer-Policy: same-origin\r\n"
    b"Cache-Control: no-store\r\n"
)


class _SocketAddingHeaders:
    """The client socket, for the one error response gunicorn writes: our headers go after its status line."""

    def __init__(self, sock: Any) -> None:
        self.sock = sock

    def __getattr__(self, name: str) -> Any:
        return getattr(self.sock, name)

    def sendall(self, data: bytes) -> None:
        status_line, separator, rest = data.partition(b"\r\n")
        self.sock.sendall(status_line + separator + ERROR_PAGE_HEADERS + rest)


class HeadersOnErrorPages:
    def handle_error(self, req: Any, client: Any, addr: Any, exc: BaseException) -> None:
        super().handle_error(req, _SocketAddingHeaders(client), addr, exc)  # type: ignore[misc]


class SyncWorkerWithHeaders(HeadersOnErrorPages, SyncWorker):
    """gunicorn's sync worker (GUNICORN_THREADS=1)."""


class ThreadWorkerWithHeaders(HeadersOnErrorPages, ThreadWorker):
    """gunicorn's threaded worker (GUNICORN_THREADS above 1)."""

"""Ports for the servers the tests start (gunicorn, Caddy, SMTP sinks, proxies, throwaway databases)."""

from __future__ import annotations

import random
import socket
import threading

# Below Linux's ephemeral range (32768-60999 by default): the kernel never gives
# these to an outgoing connection, so a port found free here stays free until a
# server binds it. A port asked of the kernel (bind to port 0) comes from the
# ephemeral range, where a database connection opened a moment later can take it
# and gunicorn, binding 0.0.0.0, then fails with "Address already in use".
_RANGE = (20000, 32000)
_handed_out: set[int] = set()
_lock = threading.Lock()


def _bindable(port: int) -> bool:
    for address in ("0.0.0.0", "127.0.0.1"):  # noqa: S104 (probing, not serving)
        with socket.socket() as sock:
            try:
                sock.bind((address, port))
            except OSError:
                return False
    return True


def free_port() -> int:
    """A port no server of this test run was given and nothing listens on."""
    with _lock:
        for _ in range(500):
            port = random.randint(*_RANGE)
            if port not in _handed_out and _bindable(port):
                _handed_out.add(port)
                return port
    raise RuntimeError("no free port found")

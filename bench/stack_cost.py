"""
What each middleware and the access line cost per request, measured inside one
process: our trivial view called through Django's WSGI handler, once per
middleware list, in rounds that take turns so that other work on the machine
weighs on every variant alike; the fastest round counts (CPU time, min of
rounds). gunicorn and wrk add the same to every variant, so they stay out.

Called by bench/run.py after Django is set up with bench.settings. By itself,
`python -m bench.stack_cost SLUG` prints what our public pages cost when they
come from the page cache (the letter SLUG must exist), with bench/run.py's
environment (BENCH_DATABASE_URL, BENCH_CACHE_URL).
"""

from __future__ import annotations

import io
import logging
import os
import runpy
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import django
from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.test.utils import override_settings
from gunicorn.config import Config
from gunicorn.glogging import Logger

from signatures.ops.gunicorn_logging import RedactingLogger
from signatures.ops.logs import JsonFormatter

PATH = "/bench/baseline/"


def environ() -> dict:
    return {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": PATH,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "127.0.0.1",
        "HTTP_USER_AGENT": "wrk",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.input": io.BytesIO(),
        "wsgi.errors": io.StringIO(),
        "wsgi.url_scheme": "http",
        "wsgi.version": (1, 0),
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }


def handler_without(names: list[str]) -> WSGIHandler:
    # The handler reads MIDDLEWARE once, when it is built: it keeps this list afterwards.
    with override_settings(MIDDLEWARE=[m for m in settings.MIDDLEWARE if m not in names]):
        return WSGIHandler()


def call(handler: WSGIHandler) -> str:
    statuses = []
    response = handler(environ(), lambda status, headers, exc_info=None: statuses.append(status))
    b"".join(response)
    response.close()  # request_finished, as gunicorn does
    return statuses[0]


def cpu_per_call(function: Callable[[], object], calls: int) -> float:
    started = time.process_time()
    for _ in range(calls):
        function()
    return (time.process_time() - started) / calls * 1e6


def fastest(variants: dict[str, Callable[[], object]], *, rounds: int, calls: int) -> dict[str, float]:
    best = dict.fromkeys(variants, float("inf"))
    for _ in range(rounds):
        for name, function in variants.items():
            best[name] = min(best[name], cpu_per_call(function, calls))
    return best


def middleware_costs(*, rounds: int = 7, calls: int = 300) -> list[tuple[str, float | None]]:
    """(variant, µs of CPU per request); None where leaving the middleware out breaks the view."""
    everything = list(settings.MIDDLEWARE)
    variants = {"all our middleware": [], "no middleware at all": everything}
    variants |= {f"without {name.rsplit('.', 1)[-1]}": [name] for name in everything}
    handlers, broken = {}, set()
    for name, names in variants.items():
        handler = handler_without(names)
        logging.disable(logging.ERROR)  # the broken ones' tracebacks say nothing the table does not
        try:
            works = call(handler).startswith("200")
        # A middleware that needs the one left out fails: that is the finding, not an error.
        except Exception:
            works = False
        finally:
            logging.disable(logging.NOTSET)
        if works:
            handlers[name] = handler
        else:
            broken.add(name)
    best = fastest({name: lambda h=h: call(h) for name, h in handlers.items()}, rounds=rounds, calls=calls)
    return [(name, None if name in broken else best[name]) for name in variants]


def access_line_costs(*, rounds: int = 7, calls: int = 2000) -> dict[str, float]:
    """µs of CPU to build and write one access line (to /dev/null), per logger and format."""
    format_ = runpy.run_path(str(Path(settings.BASE_DIR) / "gunicorn.conf.py"))["access_log_format"]
    response = SimpleNamespace(status="200 OK", sent=5, headers=[("X-Request-Id", "0" * 32)], response_length=5)
    request = SimpleNamespace(headers=[("HOST", "127.0.0.1"), ("USER-AGENT", "wrk")])
    # What gunicorn's own environ adds to Django's.
    wsgi = {key: value for key, value in environ().items() if isinstance(value, str)}
    wsgi |= {"RAW_URI": PATH, "SERVER_SOFTWARE": "gunicorn", "REMOTE_PORT": "50000", "SCRIPT_NAME": ""}
    variants = {}
    for name, logger_class, json in [
        ("gunicorn's logger, plain line", Logger, False),
        ("our redacting logger, plain line", RedactingLogger, False),
        ("our redacting logger, JSON line", RedactingLogger, True),
    ]:
        config = Config()
        config.set("accesslog", "/dev/null")
        config.set("access_log_format", format_)
        logger = logger_class(config)
        if json:
            for handler in logger.access_log.handlers:
                handler.setFormatter(JsonFormatter())
        variants[name] = lambda logger=logger: logger.access(response, request, wsgi, timedelta(milliseconds=1))
    return fastest(variants, rounds=rounds, calls=calls)


def kept_page_paths(slug: str) -> dict[str, str]:
    return {
        "trivial view": PATH,
        "kept letter page": f"/letters/{slug}/",
        "kept list page": f"/letters/{slug}/signatories/",
        "kept count.json": f"/letters/{slug}/count.json",
    }


def kept_page_costs(slug: str, *, rounds: int = 7, calls: int = 300) -> dict[str, float]:
    """µs of CPU per request for our public pages served from the page cache, through the whole stack."""
    handler = WSGIHandler()

    def visit(path: str) -> str:
        statuses = []
        response = handler(
            {**environ(), "PATH_INFO": path}, lambda status, headers, exc_info=None: statuses.append(status)
        )
        b"".join(response)
        response.close()
        return statuses[0]

    paths = kept_page_paths(slug)
    for name, path in paths.items():
        status = visit(path)  # draws and keeps the page
        if not status.startswith("200"):
            raise RuntimeError(f"{name} ({path}) answers {status}")
    return fastest({name: lambda path=path: visit(path) for name, path in paths.items()}, rounds=rounds, calls=calls)


def main() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import run  # bench/run.py, for its environment; it imports this module too

    os.environ.update({key: value for key, value in run.BENCH_ENV.items() if key not in os.environ})
    django.setup()
    for name, cost in kept_page_costs(sys.argv[1]).items():
        print(f"{name:20} {cost:7,.0f} µs of CPU per request")


if __name__ == "__main__":
    main()

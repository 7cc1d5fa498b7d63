"""
What drawing each public page costs one process, with the page cache off: the
letter page, the list (first page, a deep page by cursor, a search, a
profession) and the count, each through Django's WSGI handler with all our
middleware, production settings (DEBUG=0, the cached template loader, the
Redis cache) and PostgreSQL.

For each page: CPU µs per GET (`time.process_time()`, the fastest of a few
rounds that take turns, so other work on the machine weighs on every page
alike), the SQL statements one GET runs, and a cProfile top-25 by cumulative
time. PostgreSQL's own CPU is not in the figure (it runs in another process);
the statement count stands for it.

    .venv/bin/python bench/page_cost.py [--rows 100000] [--calls 200] [--rounds 5]
        [--only letter,first] [--profile | --no-profile]

BENCH_DATABASE_URL and BENCH_CACHE_URL choose the database and Redis (as for
bench/run.py); the letter and its signatures are loaded once and reused.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import time
from collections.abc import Callable

os.environ["SIGNATURES_PAGE_CACHE_SECONDS"] = "0"
os.environ["SIGNATURES_PAGE_CACHE_LOCAL_SECONDS"] = "0"

import run  # bench/run.py: the bench's environment and fixture

PROFILED_CALLS = 10


def environ(path: str, query: str) -> dict:
    return {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "127.0.0.1",
        "HTTP_USER_AGENT": "wrk",
        "HTTP_ACCEPT_LANGUAGE": "en",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.input": io.BytesIO(),
        "wsgi.errors": io.StringIO(),
        "wsgi.url_scheme": "http",
        "wsgi.version": (1, 0),
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }


def measure(
    gets: dict[str, Callable[[], int]], *, rounds: int, calls: int
) -> tuple[dict[str, float], dict[str, cProfile.Profile]]:
    best = dict.fromkeys(gets, float("inf"))
    for _ in range(rounds):
        for name, get in gets.items():
            started = time.process_time()
            for _ in range(calls):
                get()
            best[name] = min(best[name], (time.process_time() - started) / calls * 1e6)

    # Python function calls per GET: unlike CPU time, the same however busy the machine is.
    profiles = {}
    for name, get in gets.items():
        # CPU time, as the figures above: waiting for PostgreSQL is not counted.
        profiler = cProfile.Profile(time.process_time)
        profiler.enable()
        for _ in range(PROFILED_CALLS):
            get()
        profiler.disable()
        profiles[name] = profiler
    return best, profiles


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--calls", type=int, default=200, help="GETs per round and page")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--only", default="", help="comma-separated page names")
    parser.add_argument("--profile", action=argparse.BooleanOptionalAction, default=True)
    return parser.parse_args()


def main() -> None:
    args = parse_args()

    run.BENCH_ENV["SIGNATURES_PAGE_CACHE_SECONDS"] = "0"
    run.BENCH_ENV["SIGNATURES_PAGE_CACHE_LOCAL_SECONDS"] = "0"
    run.ensure_database()
    run.manage("migrate", "--verbosity", "0")
    run.manage("collectstatic", "--no-input", "-v0")
    run.setup_django()

    from django.conf import settings
    from django.core.handlers.wsgi import WSGIHandler
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    if settings.DEBUG or settings.SIGNATURES_PAGE_CACHE_SECONDS:
        sys.exit("measure with DEBUG=0 and the page cache off")

    fixture = run.prepare(args.rows)
    slug = fixture.slug
    pages = {
        "letter": (f"/letters/{slug}/", ""),
        "first": (f"/letters/{slug}/signatories/", ""),
        "deep": (f"/letters/{slug}/signatories/", f"after={fixture.deep_cursor}"),
        "search": (f"/letters/{slug}/signatories/", "q=lopez"),
        "profession": (f"/letters/{slug}/signatories/", f"profession={fixture.profession_id}"),
        "count": (f"/letters/{slug}/count.json", ""),
    }
    if args.only:
        pages = {name: pages[name] for name in args.only.split(",")}

    handler = WSGIHandler()

    def getter(path: str, query: str) -> Callable[[], int]:
        def get() -> int:
            statuses: list[str] = []
            response = handler(environ(path, query), lambda status, headers, exc_info=None: statuses.append(status))
            size = len(b"".join(response))
            response.close()  # request_finished, as gunicorn does
            if not statuses[0].startswith("200"):
                sys.exit(f"{path}?{query} answered {statuses[0]}")
            return size

        return get

    gets = {name: getter(*where) for name, where in pages.items()}
    sizes = {name: get() for name, get in gets.items()}  # warm: templates compiled, connections open

    statements = {}
    for name, get in gets.items():
        with CaptureQueriesContext(connection) as queries:
            get()
        statements[name] = len(queries)
        reset_queries()

    best, profiles = measure(gets, rounds=args.rounds, calls=args.calls)

    print(f"{fixture.signatures:,} signatures, {fixture.public_rows:,} listed; page cache off; DEBUG=0")
    print(f"CPU per GET, fastest of {args.rounds} rounds of {args.calls}; Python calls per GET:")
    print(f"{'page':<12} {'CPU µs':>8} {'calls':>7} {'SQL':>4} {'bytes':>7}")
    for name in gets:
        calls = pstats.Stats(profiles[name]).total_calls / PROFILED_CALLS  # type: ignore[attr-defined]
        print(f"{name:<12} {best[name]:>8,.0f} {calls:>7,.0f} {statements[name]:>4} {sizes[name]:>7,}")

    if args.profile:
        for name, profiler in profiles.items():
            for order in ("cumulative", "tottime"):
                out = io.StringIO()
                pstats.Stats(profiler, stream=out).strip_dirs().sort_stats(order).print_stats(25)
                print(f"\n=== {name}: cProfile top 25 ({order}, CPU) ===")
                print(out.getvalue().strip())


if __name__ == "__main__":
    main()

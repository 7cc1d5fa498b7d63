#!/usr/bin/env python
"""
What one sign POST costs inside the web process: CPU µs, SQL statements and
Redis round trips per POST, and a cProfile top 20.

    DATABASE_URL=postgres://… CACHE_URL=redis://…/N .venv/bin/python bench/sign_cost.py [--posts 300]

Our site as production runs it (DEBUG=0, bench.settings, the Redis cache,
PostgreSQL), called through Django's WSGI handler with the urlencoded body a
browser sends. Each POST is a new signer sending a real form: the letter page
is drawn once per POST beforehand (its CSRF cookie, its form token, its
single-use stamp), then the script waits as a person would
(SIGNATURES_MIN_FILL_SECONDS) before sending them. The load generator's
address is allow-listed, as in bench/run.py, so every POST takes the full
path. CPU is `time.process_time()` (not the wall clock: the machine may be
shared), the fastest of a few rounds; PostgreSQL's own CPU is not in it.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import time
import urllib.parse
import uuid
from http.cookies import SimpleCookie
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/undersigned_bench")
os.environ.setdefault("CACHE_URL", "redis://127.0.0.1:6379/7")
os.environ.update(
    {
        "DEBUG": "0",
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "SECRET_KEY": "bench-only-secret-key-not-for-production-" + "x" * 20,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SITE_URL": "http://127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "EMAIL_URL": "dummymail://",
        "LOG_LEVEL": "WARNING",
    }
)

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.handlers.wsgi import WSGIHandler  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from run import FIRST_NAMES, LAST_NAMES, _FormParser  # noqa: E402

from signatures import models  # noqa: E402
from signatures.abuse import windows  # noqa: E402
from signatures.management.commands.create_demo_letter import SLUG  # noqa: E402


def environ(method: str, path: str, *, body: bytes = b"", cookie: str = "") -> dict:
    env = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "127.0.0.1",
        "HTTP_USER_AGENT": "sign-cost",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": io.StringIO(),
        "wsgi.url_scheme": "http",
        "wsgi.version": (1, 0),
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    if body:
        env["CONTENT_TYPE"] = "application/x-www-form-urlencoded"
        env["CONTENT_LENGTH"] = str(len(body))
    if cookie:
        env["HTTP_COOKIE"] = cookie
    return env


def call(handler: WSGIHandler, env: dict) -> tuple[str, list[tuple[str, str]], bytes]:
    answer: list = []
    response = handler(env, lambda status, headers, exc_info=None: answer.append((status, headers)))
    content = b"".join(response)
    response.close()  # request_finished, as gunicorn does
    return answer[0][0], answer[0][1], content


def draw_forms(handler: WSGIHandler, count: int, run: str) -> list[tuple[str, bytes]]:
    """`count` (cookie, body) pairs, each from its own drawing of the letter page, as a new visitor."""
    page_path = f"/letters/{SLUG}/"
    action = f"{page_path}sign/"
    forms = []
    for i in range(count):
        status, headers, content = call(handler, environ("GET", page_path))
        if not status.startswith("200"):
            sys.exit(f"The letter page answered {status}.")
        cookies = SimpleCookie()
        for name, value in headers:
            if name.lower() == "set-cookie":
                cookies.load(value)
        secret = cookies[settings.CSRF_COOKIE_NAME].value
        parser = _FormParser(action)
        parser.feed(content.decode())
        fields = parser.fields
        fields.update(
            email=f"signer.{run}.{i}@d{i}.{run}.example.org",
            full_name=f"{FIRST_NAMES[i % 10]} {LAST_NAMES[i // 10 % 10]}",
            title="Benchmark",
            affiliation="Load Studio",
            city="Paris",
            country="France",
        )
        forms.append((f"{settings.CSRF_COOKIE_NAME}={secret}", urllib.parse.urlencode(fields).encode()))
    return forms


class RedisCalls:
    """Counts round trips to Redis (pipelines count once) by wrapping the connection's command sender."""

    def __init__(self) -> None:
        self.calls = 0

    def __enter__(self) -> RedisCalls:
        from redis.connection import Connection

        self.original = Connection.send_packed_command

        def counting(connection: Connection, *args: object, **kwargs: object) -> object:
            self.calls += 1
            return self.original(connection, *args, **kwargs)

        Connection.send_packed_command = counting  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: object) -> None:
        from redis.connection import Connection

        Connection.send_packed_command = self.original  # type: ignore[method-assign]


def send(handler: WSGIHandler, action: str, forms: list[tuple[str, bytes]]) -> None:
    for cookie, body in forms:
        status, _, _ = call(handler, environ("POST", action, body=body, cookie=cookie))
        if not status.startswith("302"):
            sys.exit(f"A sign POST answered {status}.")


def fastest_round(handler: WSGIHandler, action: str, batches: list[list[tuple[str, bytes]]]) -> float:
    """µs of CPU per POST in the fastest batch."""
    best = float("inf")
    for batch in batches:
        started = time.process_time()
        send(handler, action, batch)
        best = min(best, (time.process_time() - started) / len(batch) * 1e6)
    return best


def statements(handler: WSGIHandler, action: str, batch: list[tuple[str, bytes]]) -> list[str]:
    """Every SQL statement the batch ran (BEGIN and COMMIT are not statements to Django)."""
    queries: list[str] = []

    def record(execute, sql, params, many, context):
        queries.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        send(handler, action, batch)
    return queries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=300, help="Sign POSTs per round (default 300).")
    parser.add_argument("--rounds", type=int, default=3, help="Rounds; the fastest counts (default 3).")
    options = parser.parse_args()

    call_command("migrate", "--no-input", verbosity=0)
    call_command("collectstatic", "--no-input", verbosity=0)  # DEBUG=0 serves hashed names
    if not models.Letter.objects.filter(slug=SLUG).exists():
        call_command("create_demo_letter")
    letter = models.Letter.objects.get(slug=SLUG)
    models.AllowedNetwork.objects.get_or_create(cidr="127.0.0.1/32", defaults={"note": "bench: the load generator"})
    caught_before = sum(models.CaughtSubmission.objects.filter(letter=letter).values_list("count", flat=True))
    handler = WSGIHandler()
    action = f"/letters/{SLUG}/sign/"
    run = uuid.uuid4().hex[:8]
    # The rounds, the SQL count, the Redis count and the profile, each with forms of its own.
    batches = [draw_forms(handler, options.posts, f"{run}r{n}") for n in range(options.rounds + 3)]
    warm_up = draw_forms(handler, 20, f"{run}warm")
    time.sleep(settings.SIGNATURES_MIN_FILL_SECONDS + 1)
    send(handler, action, warm_up)  # templates, connections

    best = fastest_round(handler, action, batches[: options.rounds])
    queries = statements(handler, action, batches[-3])
    with RedisCalls() as redis_calls:
        send(handler, action, batches[-2])
    profile = cProfile.Profile()
    profile.enable()
    send(handler, action, batches[-1])
    profile.disable()

    created = models.Signature.objects.filter(letter=letter, email_normalized__contains=f".{run}r").count()
    held = models.Signature.objects.filter(
        letter=letter, email_normalized__contains=f".{run}r", hold_reason__gt=""
    ).count()
    caught = sum(models.CaughtSubmission.objects.filter(letter=letter).values_list("count", flat=True)) - caught_before
    posts = options.posts * len(batches)
    print(f"sign POST, new signer, one process (fastest of {options.rounds} rounds of {options.posts}):")
    print(f"  {best:,.0f} µs of CPU per POST")
    print(f"  {len(queries) / options.posts:.1f} SQL statements per POST")
    print(f"  {redis_calls.calls / options.posts:.1f} Redis round trips per POST (limit windows: {windows.__name__})")
    print(f"  {created} of {posts} POSTs created a signature ({held} held); {caught} caught")
    print("  statements of the last POST:")
    last = queries[-round(len(queries) / options.posts) :]
    for sql in last:
        print(f"    {sql[:150]}")
    print()
    stream = io.StringIO()
    stats = pstats.Stats(profile, stream=stream)
    stats.sort_stats("tottime").print_stats(20)
    # Where our own code spends it, by cumulative time.
    stats.sort_stats("cumulative").print_stats("/signatures/", 25)
    print(stream.getvalue())
    if created < posts * 0.97:
        sys.exit("More than 3% of the POSTs did not create a signature: the figure is not a sign POST's.")


if __name__ == "__main__":
    main()

#!/usr/bin/env python
"""
How each cost grows with the data: the pages, the export, recount and purge
of the bench letter, timed in-process (Django test client, DEBUG=0, no page
cache) against whatever database BENCH_DATABASE_URL names, with the SQL each
page runs and an EXPLAIN (ANALYZE, BUFFERS) of its slowest query.

    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/undersigned_bench \\
        .venv/bin/python bench/scale.py [--repeat 5] [--explain-over-ms 20] [--out bench/out/scale.json]

Load the data first, into an empty database, and time the load:

    BENCH_DATABASE_URL=... .venv/bin/python bench/scale.py --load 10000000

which runs `manage.py generate_signatures N --seed 10` and reports its wall
time, the CPU time of its Python processes and of its PostgreSQL backends
(read from /proc: PostgreSQL must run on this machine), and the load average.

The admin moderation queue is measured twice: in-process, and through a real
gunicorn (bench/run.py's Server: 2 sync workers, DEBUG=0, our gunicorn.conf.py)
with a logged-in superuser's session cookie, sequential requests, p50 and p90.
Every figure carries the load average of its minute: the machine is shared.
Purge runs inside a transaction that is rolled back: nothing is deleted.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def setup_django() -> None:
    os.environ.update(
        {
            "DATABASE_URL": os.environ.get(
                "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/undersigned_bench"
            ),
            "CACHE_URL": os.environ.get("BENCH_CACHE_URL", "redis://127.0.0.1:6379/7"),
            "DEBUG": "0",
            "SECRET_KEY": "bench-only-secret-key-not-for-production-" + "x" * 20,
            "ALLOWED_HOSTS": "testserver,127.0.0.1",
            "SECURE_SSL_REDIRECT": "0",
            "EMAIL_URL": "dummymail://",
            "LOG_LEVEL": "ERROR",
            "SIGNATURES_PAGE_CACHE_SECONDS": "0",
            "DJANGO_SETTINGS_MODULE": "letter_site.settings",
        }
    )
    sys.path.insert(0, str(ROOT))
    os.chdir(ROOT)
    import django

    django.setup()


def load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def backend_cpu_seconds(database: str, seen: dict[int, float]) -> None:
    """Record the CPU time so far of every PostgreSQL backend connected to `database` (their pids as keys)."""
    import psycopg2

    url = urllib.parse.urlsplit(os.environ["DATABASE_URL"])
    conn = psycopg2.connect(host=url.hostname, port=url.port or 5432, user=url.username, dbname="postgres")
    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", [database])
            pids = [pid for (pid,) in cursor.fetchall()]
    finally:
        conn.close()
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        seen[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def time_load(count: int) -> dict:
    """Run generate_signatures and account for its wall time and the CPU of every process it kept busy."""
    database = urllib.parse.urlsplit(os.environ["DATABASE_URL"]).path.lstrip("/")
    seen: dict[int, float] = {}
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.5):
            backend_cpu_seconds(database, seen)

    sampler = threading.Thread(target=sample, daemon=True)
    before = {"load_average": load_average(), "children": resource.getrusage(resource.RUSAGE_CHILDREN)}
    started = time.monotonic()
    sampler.start()
    command = [sys.executable, "manage.py", "generate_signatures", str(count), "--seed", "10"]
    output = subprocess.run(command, cwd=ROOT, check=True, capture_output=True, text=True).stdout
    done.set()
    sampler.join()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    phases = [line.strip() for line in output.splitlines() if " / " not in line]
    return {
        "rows": count,
        "wall_seconds": round(time.monotonic() - started, 1),
        "python_cpu_seconds": round(
            children.ru_utime + children.ru_stime - before["children"].ru_utime - before["children"].ru_stime, 1
        ),
        # Sampled twice a second: a backend's last half second can be missed.
        "postgres_cpu_seconds": round(sum(seen.values()), 1),
        "python_max_rss_mib": round(children.ru_maxrss / 1024),
        "load_average_before": before["load_average"],
        "load_average_after": load_average(),
        "phases": phases,
    }


def through_gunicorn(path: str, cookie: str, requests: int) -> dict:
    """Sequential GETs of `path` through gunicorn with a session cookie: p50, p90 and the workers' CPU per request."""
    sys.path.insert(0, str(ROOT / "bench"))
    import run as bench_run

    bench_run.OUT.mkdir(parents=True, exist_ok=True)
    server = bench_run.Server()
    server.start()
    try:
        request = urllib.request.Request(f"{bench_run.BASE_URL}{path}", headers={"Cookie": cookie})  # noqa: S310
        for _ in range(3):  # both workers warm
            with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 (loopback)
                if response.status != 200 or b"action-select" not in response.read():
                    sys.exit(f"gunicorn: {path} did not show the queue")
        cpu_before, times = server.cpu_seconds(), []
        for _ in range(requests):
            started = time.perf_counter()
            with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 (loopback)
                response.read()
            times.append((time.perf_counter() - started) * 1000)
        cpu = (server.cpu_seconds() - cpu_before) / requests * 1000
    finally:
        server.stop()
    times.sort()
    return {
        "requests": requests,
        "p50_ms": round(statistics.median(times), 1),
        "p90_ms": round(times[int(len(times) * 0.9) - 1], 1),
        "worker_cpu_ms_per_request": round(cpu, 1),
        "load_average": load_average(),
    }


def explain(sql: str) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
        return "\n".join(row[0] for row in cursor.fetchall())


def main() -> None:  # noqa: PLR0915 (one measuring script, read top to bottom)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--explain-over-ms", type=float, default=20.0)
    parser.add_argument("--gunicorn-requests", type=int, default=30)
    parser.add_argument("--csv-rows", type=int, default=0, help="Stop the CSV export after this many rows (0: all).")
    parser.add_argument("--load", type=int, default=0, help="Load this many signatures first, timed (see above).")
    parser.add_argument("--out", default=str(ROOT / "bench" / "out" / "scale.json"))
    options = parser.parse_args()
    setup_django()
    if options.load:
        figures = time_load(options.load)
        print(json.dumps(figures, indent=2, ensure_ascii=False))
        out = Path(options.out).with_name(f"load-{options.load}.json")
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(figures, indent=2, ensure_ascii=False))
        return

    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from signatures import services
    from signatures.management.commands.create_demo_letter import SLUG
    from signatures.models import Letter, Signature, SignatureCounter
    from signatures.pagination import Cursor

    letter = Letter.objects.get(slug=SLUG)
    rows = Signature.objects.filter(letter=letter).count()
    listed = SignatureCounter.value_for(letter, SignatureCounter.LISTED)
    page = settings.SIGNATURES_PAGE_SIZE
    deep = Signature.objects.listed().filter(letter=letter).only("is_notable", "is_founding", "approved_at", "id")
    deep_row = deep[min(10_000 * page, listed // 2) - page - 1]
    profession = letter.professions.order_by("position").first()
    user, _ = get_user_model().objects.get_or_create(
        username="bench-moderator", defaults={"is_staff": True, "is_superuser": True}
    )
    client = Client()
    admin = Client()
    admin.force_login(user)
    scenarios = [
        ("letter page", client, f"/letters/{SLUG}/"),
        ("list, first page", client, f"/letters/{SLUG}/signatories/"),
        ("list, page 10,000", client, f"/letters/{SLUG}/signatories/?after={Cursor.of(deep_row).encode()}"),
        ("list, search 'lopez'", client, f"/letters/{SLUG}/signatories/?q=lopez"),
        ("list, profession", client, f"/letters/{SLUG}/signatories/?profession={profession.pk}"),
        ("count", client, f"/letters/{SLUG}/count.json"),
        ("admin queue", admin, f"/admin/signatures/signature/?letter__id__exact={letter.pk}"),
    ]
    report: dict = {"signatures": rows, "listed": listed, "load_average": load_average(), "scenarios": {}}
    connection.force_debug_cursor = True
    for name, who, path in scenarios:
        times, cpu = [], []
        who.get(path)  # warm: templates compiled, pages cached by PostgreSQL
        for _ in range(options.repeat):
            with CaptureQueriesContext(connection) as queries:
                started, cpu_started = time.perf_counter(), time.process_time()
                response = who.get(path)
                times.append((time.perf_counter() - started) * 1000)
                cpu.append((time.process_time() - cpu_started) * 1000)
            if response.status_code != 200:
                sys.exit(f"{name}: {path} answered {response.status_code}")
        slowest = max(queries.captured_queries, key=lambda q: float(q["time"]))
        entry = {
            "ms_median": round(statistics.median(times), 1),
            "python_cpu_ms_median": round(statistics.median(cpu), 1),
            "load_average": load_average(),
            "queries": len(queries.captured_queries),
            "slowest_query_ms": round(float(slowest["time"]) * 1000, 1),
            "slowest_sql": slowest["sql"][:400],
        }
        if float(slowest["time"]) * 1000 >= options.explain_over_ms:
            entry["explain"] = explain(slowest["sql"])
        report["scenarios"][name] = entry
        print(
            f"{name}: {entry['ms_median']} ms ({entry['python_cpu_ms_median']} ms CPU), {entry['queries']} queries, "
            f"slowest {entry['slowest_query_ms']} ms; load {entry['load_average']}"
        )
    connection.force_debug_cursor = False

    queue_path = {name: path for name, _who, path in scenarios}["admin queue"]
    cookie = f"{settings.SESSION_COOKIE_NAME}={admin.cookies[settings.SESSION_COOKIE_NAME].value}"
    report["admin_queue_gunicorn"] = through_gunicorn(queue_path, cookie, options.gunicorn_requests)
    print(f"admin queue through gunicorn: {report['admin_queue_gunicorn']}")

    # The public CSV export, streamed: rows per second and the memory it took.
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started, cpu_started = time.perf_counter(), time.process_time()
    response = client.get(f"/letters/{SLUG}/signatories.csv")
    exported = -1  # the header line
    for chunk in response.streaming_content:
        exported += chunk.count(b"\n")
        if options.csv_rows and exported >= options.csv_rows:
            break  # a steady stream: its first rows show its rate and memory
    response.close()
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    report["csv_export"] = {
        "rows": exported,
        "seconds": round(seconds, 1),
        "rows_per_second": round(exported / seconds),
        # What the machine's load does not change: rows per second of this process's CPU.
        "rows_per_cpu_second": round(exported / cpu_seconds),
        "max_rss_growth_mib": round((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) / 1024, 1),
        "max_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "load_average": load_average(),
    }
    print(f"csv export: {report['csv_export']}")

    started = time.perf_counter()
    drift = services.recount_letter(letter=letter)
    report["recount"] = {"seconds": round(time.perf_counter() - started, 2), "drift": drift, "load": load_average()}
    print(f"recount: {report['recount']}")

    started = time.perf_counter()
    with transaction.atomic():
        purged = services.purge_expired_signatures()
        transaction.set_rollback(True)
    report["purge_rolled_back"] = {
        "seconds": round(time.perf_counter() - started, 2),
        "would_purge": purged,
        "load": load_average(),
    }
    print(f"purge (rolled back): {report['purge_rolled_back']}")

    Path(options.out).parent.mkdir(parents=True, exist_ok=True)
    Path(options.out).write_text(json.dumps(report, indent=2, ensure_ascii=False))
    print(f"written to {options.out}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python
"""
Many people signing one letter at the same moment: do they queue up behind
the letter's counter rows?

    .venv/bin/python bench/hot_counter.py [--workers 8] [--connections 64] [--duration 10] [--instances 1]

It starts gunicorn (DEBUG=0, `gunicorn.conf.py`, WORKERS sync workers; with
--instances, that many gunicorns on consecutive ports), drives the sign POST
with wrk (bench/lua/sign.lua: each POST sends a real form drawn from the
letter page beforehand, a new person and a new email domain per request)
and, while the load runs, samples every 20 ms what each busy PostgreSQL
backend of the database waits for (pg_stat_activity.wait_event) and which
locks are waited for (pg_locks, not granted). It prints requests/s, p50/p99,
the wait shares, and checks afterwards that the counters equal the rows
(`recount_letter` finds no drift). It uses the bench database of
bench/run.py (run that once first to load it) unless BENCH_DATABASE_URL says
otherwise; DATABASE_URL for the web processes may differ (a pooler), see
--web-database-url.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import psycopg2
from run import MAX_SIGN_FORMS, draw_sign_forms

ROOT = Path(__file__).resolve().parent.parent
LUA = ROOT / "bench" / "lua"
OUT = ROOT / "bench" / "out"
PYTHON = sys.executable
DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/undersigned_bench")
CACHE_URL = os.environ.get("BENCH_CACHE_URL", "redis://127.0.0.1:6379/7")
FIRST_NAMES = ["Agnès", "José", "Łukasz", "Søren", "Nguyễn", "Zoë", "Müge", "Ана", "さくら", "Chinwe"]
LAST_NAMES = ["Varda", "López", "Wiśniewski", "Ødegård", "Thảo", "Brontë", "Öztürk", "Иванова", "佐藤", "Okonkwo"]


def log(message: str) -> None:
    print(f"[hot_counter {time.strftime('%H:%M:%S')}] {message}", flush=True)


def web_env(port: int, *, database_url: str, extra: dict[str, str]) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "CACHE_URL": CACHE_URL,
        "DEBUG": "0",
        "SECRET_KEY": "bench-only-secret-key-not-for-production-" + "x" * 20,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SITE_URL": f"http://127.0.0.1:{port}",
        "SECURE_SSL_REDIRECT": "0",
        "EMAIL_URL": "dummymail://",
        "LOG_LEVEL": "WARNING",
        "GUNICORN_MAX_REQUESTS": "0",
        "GUNICORN_LOG_LEVEL": "warning",
        **extra,
    }


def setup_django() -> None:
    os.environ.update(web_env(0, database_url=DATABASE_URL, extra={}))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "letter_site.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


class Gunicorn:
    """One gunicorn, always stopped (its whole process group) by `stop`."""

    def __init__(self, port: int, workers: int, env: dict[str, str]) -> None:
        self.port = port
        self.workers = workers
        self.env = env
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        command = [str(Path(PYTHON).with_name("gunicorn")), "letter_site.wsgi", "-c", "gunicorn.conf.py"]
        command += ["--workers", str(self.workers), "--bind", f"127.0.0.1:{self.port}", "--timeout", "120"]
        OUT.mkdir(parents=True, exist_ok=True)
        with (OUT / f"hot_counter_gunicorn_{self.port}.log").open("ab") as out:
            self.process = subprocess.Popen(
                command, cwd=ROOT, env=self.env, stdout=out, stderr=out, start_new_session=True
            )

    def wait(self, path: str) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=5) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        self.stop()
        sys.exit(f"gunicorn on port {self.port} did not answer within 60 s")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.process = None


class WaitSampler(threading.Thread):
    """What the database's busy backends wait for, sampled every `interval` seconds until stopped."""

    def __init__(self, database: str, interval: float = 0.02) -> None:
        super().__init__(daemon=True)
        self.database = database
        self.interval = interval
        self.stopped = threading.Event()
        self.samples = 0
        self.active = 0
        self.waits: collections.Counter[str] = collections.Counter()
        self.lock_waits: collections.Counter[str] = collections.Counter()
        self.max_lock_waiters = 0

    def run(self) -> None:
        url = urllib.parse.urlsplit(DATABASE_URL)
        connection = psycopg2.connect(
            host=url.hostname, port=url.port or 5432, user=url.username or "postgres", dbname="postgres"
        )
        connection.autocommit = True
        with connection.cursor() as cursor:
            while not self.stopped.is_set():
                cursor.execute(
                    "SELECT coalesce(wait_event_type || ':' || wait_event, 'CPU') FROM pg_stat_activity "
                    "WHERE datname = %s AND state = 'active' AND pid <> pg_backend_pid()",
                    [self.database],
                )
                rows = [row[0] for row in cursor.fetchall()]
                cursor.execute(
                    "SELECT l.locktype, coalesce(c.relname, '') FROM pg_locks l "
                    "LEFT JOIN pg_class c ON c.oid = l.relation "
                    "JOIN pg_database d ON d.oid = l.database OR l.database IS NULL "
                    "WHERE NOT l.granted AND d.datname = %s",
                    [self.database],
                )
                locks = cursor.fetchall()
                self.samples += 1
                self.active += len(rows)
                self.waits.update(rows)
                self.lock_waits.update(f"{kind} {relation}".strip() for kind, relation in locks)
                self.max_lock_waiters = max(self.max_lock_waiters, len(locks))
                time.sleep(self.interval)
        connection.close()

    def summary(self) -> dict:
        total = max(self.active, 1)
        return {
            "samples": self.samples,
            "busy_backends_avg": round(self.active / max(self.samples, 1), 2),
            "waits_share": {k: round(v / total, 3) for k, v in self.waits.most_common(8)},
            "lock_waiters_avg": round(sum(self.lock_waits.values()) / max(self.samples, 1), 2),
            "lock_waits": dict(self.lock_waits.most_common(6)),
            "lock_waiters_max": self.max_lock_waiters,
        }


def run_wrk(port: int, path: str, env: dict[str, str], *, connections: int, duration: int) -> dict:
    wrk = shutil.which("wrk") or sys.exit("wrk is missing (apt-get install wrk)")
    script = OUT / "hot_counter_sign.lua"
    script.write_text((LUA / "sign.lua").read_text() + "\n" + (LUA / "report.lua").read_text())
    threads = min(2, connections)
    command = [wrk, f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--timeout", "10s", "--latency"]
    command += ["-s", str(script), f"http://127.0.0.1:{port}{path}"]
    done = subprocess.run(
        command, capture_output=True, text=True, env={**os.environ, **env}, timeout=duration + 60, check=False
    )
    match = re.search(r"^BENCH_JSON (.*)$", done.stdout, re.MULTILINE)
    if not match:
        sys.exit(f"wrk gave no result:\n{done.stdout}\n{done.stderr}")
    return json.loads(match.group(1))


def parse_options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=8, help="Sync workers per gunicorn (default 8).")
    parser.add_argument("--instances", type=int, default=1, help="gunicorns, on consecutive ports (default 1).")
    parser.add_argument("--connections", type=int, default=64, help="wrk connections in all (default 64).")
    parser.add_argument("--duration", type=int, default=10, help="Seconds of load (default 10, at most 60).")
    parser.add_argument("--port", type=int, default=int(os.environ.get("BENCH_PORT", "8795")))
    parser.add_argument("--web-database-url", default="", help="DATABASE_URL of the web processes (a pooler).")
    parser.add_argument("--env", action="append", default=[], help="NAME=value for the web processes.")
    return parser.parse_args()


def main() -> None:
    options = parse_options()
    duration = min(options.duration, 60)
    os.chdir(ROOT)
    setup_django()

    from django.conf import settings as django_settings
    from django.db import connection

    from signatures import services
    from signatures.management.commands.create_demo_letter import SLUG
    from signatures.models import AllowedNetwork, Letter, Signature

    letter = Letter.objects.get(slug=SLUG)
    AllowedNetwork.objects.get_or_create(cidr="127.0.0.1/32", defaults={"note": "bench: the load generator"})
    connection.close()
    run = uuid.uuid4().hex[:8]
    path = f"/letters/{SLUG}/sign/"
    extra = dict(item.split("=", 1) for item in options.env)
    servers = [
        Gunicorn(
            options.port + n,
            options.workers,
            web_env(options.port + n, database_url=options.web_database_url or DATABASE_URL, extra=extra),
        )
        for n in range(options.instances)
    ]
    database = urllib.parse.urlsplit(DATABASE_URL).path.lstrip("/")
    load = Path("/proc/loadavg").read_text().split()[0]
    sampler = WaitSampler(database)
    results: list[dict] = []
    try:
        for server in servers:
            server.start()
        for server in servers:
            server.wait(f"/letters/{SLUG}/")
        per_instance = max(options.connections // len(servers), 1)
        # Stamps are single-use and bound to their form's CSRF token: one real
        # form per POST, drawn from each instance's own letter page beforehand.
        forms = [
            draw_sign_forms(
                min(duration * 400, MAX_SIGN_FORMS),
                f"{run}{n}",
                slug=SLUG,
                base_url=f"http://127.0.0.1:{server.port}",
                name=f"hot_counter_forms_{n}.txt",
            )
            for n, server in enumerate(servers)
        ]
        time.sleep(django_settings.SIGNATURES_MIN_FILL_SECONDS + 1)
        threads_per_wrk = min(2, per_instance)
        sampler.start()
        threads = [
            threading.Thread(
                target=lambda s=server, f=form_file: results.append(
                    run_wrk(
                        s.port,
                        path,
                        {
                            "BENCH_SIGN_FORMS": str(f),
                            "BENCH_SIGN_PATH": path,
                            "BENCH_CSRF_COOKIE": "csrftoken",
                            "BENCH_THREADS": str(threads_per_wrk),
                        },
                        connections=per_instance,
                        duration=duration,
                    )
                )
            )
            for server, form_file in zip(servers, forms, strict=True)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sampler.stopped.set()
        for server in servers:
            server.stop()
    sampler.join(timeout=5)
    requests = sum(r["requests"] for r in results)
    seconds = max(r["duration_us"] for r in results) / 1e6
    created = Signature.objects.filter(letter=letter, email_normalized__contains=f".{run}").count()
    drift = services.recount_letter(letter=letter)
    report = {
        "load_average_before": float(load),
        "instances": len(servers),
        "workers_each": options.workers,
        "connections": options.connections,
        "requests_per_second": round(requests / seconds, 1),
        "p50_ms": max(r["p50_us"] for r in results) / 1000,
        "p99_ms": max(r["p99_us"] for r in results) / 1000,
        "errors": sum(r["errors"] for r in results),
        "posts": requests,
        "signatures_created": created,
        "recount_drift": drift,
        **sampler.summary(),
    }
    print(json.dumps(report, indent=2, ensure_ascii=False))
    if drift:
        sys.exit("recount found drift")


if __name__ == "__main__":
    main()

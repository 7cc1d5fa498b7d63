#!/usr/bin/env python
"""
How each cost grows with the data: the pages, the export, recount and purge
of the bench letter, timed in-process (Django test client, DEBUG=0, no page
cache) against whatever database BENCH_DATABASE_URL names, with the SQL each
page runs and an EXPLAIN (ANALYZE, BUFFERS) of its slowest query.

    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/undersigned_bench \\
        .venv/bin/python bench/scale.py [--repeat 3] [--explain-over-ms 20] [--out bench/out/scale.json]

Load the data first (bench/run.py, or `manage.py generate_signatures N`).
Purge runs inside a transaction that is rolled back: nothing is deleted.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import time
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


def explain(sql: str) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
        return "\n".join(row[0] for row in cursor.fetchall())


def main() -> None:  # noqa: PLR0915 (one measuring script, read top to bottom)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--explain-over-ms", type=float, default=20.0)
    parser.add_argument("--out", default=str(ROOT / "bench" / "out" / "scale.json"))
    options = parser.parse_args()
    setup_django()

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
    report: dict = {"signatures": rows, "listed": listed, "load_average": os.getloadavg()[0], "scenarios": {}}
    connection.force_debug_cursor = True
    for name, who, path in scenarios:
        times = []
        for _ in range(options.repeat):
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                response = who.get(path)
                times.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                sys.exit(f"{name}: {path} answered {response.status_code}")
        slowest = max(queries.captured_queries, key=lambda q: float(q["time"]))
        entry = {
            "ms_median": round(statistics.median(times), 1),
            "queries": len(queries.captured_queries),
            "slowest_query_ms": round(float(slowest["time"]) * 1000, 1),
            "slowest_sql": slowest["sql"][:400],
        }
        if float(slowest["time"]) * 1000 >= options.explain_over_ms:
            entry["explain"] = explain(slowest["sql"])
        report["scenarios"][name] = entry
        print(f"{name}: {entry['ms_median']} ms, {entry['queries']} queries, slowest {entry['slowest_query_ms']} ms")
    connection.force_debug_cursor = False

    # The public CSV export, streamed: rows per second and the memory it took.
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    response = client.get(f"/letters/{SLUG}/signatories.csv")
    exported = sum(chunk.count(b"\n") for chunk in response.streaming_content) - 1
    seconds = time.perf_counter() - started
    report["csv_export"] = {
        "rows": exported,
        "seconds": round(seconds, 1),
        "rows_per_second": round(exported / seconds),
        "max_rss_growth_mib": round((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) / 1024, 1),
    }
    print(f"csv export: {report['csv_export']}")

    started = time.perf_counter()
    drift = services.recount_letter(letter=letter)
    report["recount"] = {"seconds": round(time.perf_counter() - started, 2), "drift": drift}
    print(f"recount: {report['recount']}")

    started = time.perf_counter()
    with transaction.atomic():
        purged = services.purge_expired_signatures()
        transaction.set_rollback(True)
    report["purge_rolled_back"] = {"seconds": round(time.perf_counter() - started, 2), "would_purge": purged}
    print(f"purge (rolled back): {report['purge_rolled_back']}")

    Path(options.out).parent.mkdir(parents=True, exist_ok=True)
    Path(options.out).write_text(json.dumps(report, indent=2, ensure_ascii=False))
    print(f"written to {options.out}")


if __name__ == "__main__":
    main()

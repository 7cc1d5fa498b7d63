#!/usr/bin/env python
"""
How long an organizer's import of 10,000 rows takes: reading and checking the
file (the preview), then the worker's import in batches of 500 with an
invitation email queued per person (sending them is the email worker's job,
measured by bench/email_throughput.py).

    DATABASE_URL=postgres://... .venv/bin/python bench/import_signatures.py [--rows 10000]

It makes its own letter and deletes it (and its signatures) at the end.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "letter_site.settings")
os.environ.setdefault("TASKS_BACKEND", "django_tasks_db.DatabaseBackend")

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django_tasks_db.models import DBTaskResult  # noqa: E402

from signatures import services  # noqa: E402
from signatures.models import ImportRun, Letter, LetterVersion, OutgoingEmail, Profession, Signature  # noqa: E402


def generated_file(rows: int) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["Name", "Email", "Profession", "City"])
    for i in range(rows):
        writer.writerow([f"Bench Person {i}", f"bench{i}@example.org", ("director", "Composer")[i % 2], "Paris"])
    return out.getvalue().encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    for left in Letter.objects.filter(slug__startswith="bench-import-"):
        clean_up(left)  # from a run that was interrupted
    letter = Letter.objects.create(
        slug=f"bench-import-{int(time.time())}", title="Bench import", addressee="-", summary="-", body="-",
        status=Letter.Status.OPEN,
    )  # fmt: skip
    Profession.objects.create(letter=letter, name="Director")
    Profession.objects.create(letter=letter, name="Composer")
    try:
        data = generated_file(args.rows)
        started = time.monotonic()
        table = services.read_table(data=data, filename="bench.csv")
        run = services.create_import(letter=letter, filename="bench.csv", table=table, consent="invite")
        services.preview_import(run=run, mapping=run.mapping)
        preview = time.monotonic() - started
        services.start_import(run=run)
        started = time.monotonic()
        added = services.run_import(run_id=run.pk)
        imported = time.monotonic() - started
        vendor = django.db.connection.vendor
        print(f"{vendor}: {args.rows} rows: preview {preview:.1f}s, import {imported:.1f}s ({added} signatures added,")
        print(f"  one invitation queued each; {args.rows / imported:.0f} rows/s, batches of 500 per transaction)")
    finally:
        clean_up(letter)


def clean_up(letter: Letter) -> None:
    """Remove the bench letter, its signatures (their emails go with them) and their send tasks."""
    message_ids = list(OutgoingEmail.objects.filter(signature__letter=letter).values_list("message_id", flat=True))
    for start in range(0, len(message_ids), 1000):
        DBTaskResult.objects.filter(args_kwargs__args__0__in=message_ids[start : start + 1000]).delete()
    run_ids = list(ImportRun.objects.filter(letter=letter).values_list("pk", flat=True))
    DBTaskResult.objects.filter(task_path__endswith=".import_signatures", args_kwargs__args__0__in=run_ids).delete()
    Signature.objects.filter(letter=letter).delete()
    ImportRun.objects.filter(letter=letter).delete()
    LetterVersion.objects.filter(letter=letter).delete()
    letter.delete()


if __name__ == "__main__":
    main()

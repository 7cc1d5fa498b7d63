#!/usr/bin/env python
"""
What the addressee's PDF costs: the delivery document (the letter, then N
signatories grouped by profession) drawn by WeasyPrint from a frozen list,
timed with its peak memory, each size in a fresh process so one run's
memory does not hide the next one's.

    .venv/bin/python bench/delivery_pdf.py [--names 10000 100000]

Needs no database: the list is made up and frozen in memory, exactly as
`signatures.delivery.freeze_delivered_list` would store it.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROFESSIONS = ("Director", "Composer", "Screenwriter", "Editor", "Session musician", "Animator", "Actor", "")
FIRST = ("Ada", "Ben", "Chloé", "Dmitri", "Eun-ji", "Fatou", "Grace", "Hiro", "Inès", "Jonas")
LAST = ("López", "Mensah", "Martin", "Bennett", "Raman", "Ferreira", "Guðnadóttir", "Kowalski", "Okafor", "Sato")


def made_up_list(count: int) -> str:
    # Imported once Django is set up (in the child process).
    from signatures.csv_export import stream_csv
    from signatures.delivery import DELIVERED_CSV_HEADER

    rows = sorted(
        (
            (
                f"{FIRST[i % 10]} {LAST[(i // 10) % 10]} {i}",
                PROFESSIONS[i % len(PROFESSIONS)],
                "",
                "Studio Kite" if i % 2 else "",
            )
            for i in range(count)
        ),
        # As printed: by profession (the unlisted last), then by name.
        key=lambda row: (row[1] == "", PROFESSIONS.index(row[1]), row[0]),
    )
    return "".join(stream_csv(DELIVERED_CSV_HEADER, rows))


def child(count: int) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "letter_site.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.utils import timezone
    from pypdf import PdfReader

    from signatures.delivery import delivery_pdf, sha256_of
    from signatures.models import Letter

    text = made_up_list(count)
    letter = Letter(
        slug="bench",
        title="Our work is not your training data",
        addressee="The Minister",
        body_html="<p>We ask you to uphold copyright.</p>" * 20,
        delivered_at=timezone.now(),
        delivered_count=count,
        delivered_list_csv=text,
        delivered_list_sha256=sha256_of(text),
    )
    letter.__dict__["current_version"] = None  # no database: no published version to look up
    started, cpu_started = time.perf_counter(), time.process_time()
    pdf = delivery_pdf(letter=letter)
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    pages = len(PdfReader(io.BytesIO(pdf)).pages)
    # Wall time swells with the machine's load; CPU time is the cost itself.
    result = {
        "names": count,
        "seconds": round(seconds, 1),
        "cpu_seconds": round(cpu_seconds, 1),
        "peak_mib": round(peak_mib),
        "pages": pages,
        "pdf_mib": round(len(pdf) / 2**20, 1),
    }
    print(json.dumps(result))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--names", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--timeout", type=int, default=1800, help="seconds allowed per size")
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    for count in args.names:
        result = subprocess.run(
            [sys.executable, __file__, "--child", str(count)],
            capture_output=True,
            text=True,
            timeout=args.timeout,
            check=True,
        )
        print(result.stdout.strip().splitlines()[-1], flush=True)


if __name__ == "__main__":
    main()

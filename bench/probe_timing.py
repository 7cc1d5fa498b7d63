"""
No probing by the clock: how long a sign POST takes for each kind of
submission (new, pending, approved, blocklisted, held — new or known —,
honeypot, too fast, replayed stamp).
A bot must not tell them apart by timing; this prints the median and the
90th percentile of each, in milliseconds, against a throwaway test database.

    .venv/bin/python bench/probe_timing.py [--rounds 50]

(Timing is measured here, not asserted in the test suite: CI machines are noisy.)
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "letter_site.settings")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=50)
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test import Client, override_settings
    from django.test.utils import setup_test_environment
    from django.urls import reverse

    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0)
    try:
        from signatures.abuse.bots import HONEYPOT_FIELD
        from signatures.models import BlockedDomain, Signature
        from tests.factories import form_guard, make_letter, make_signature, sign_data

        # As in production: the email is queued in the request and sent by the worker.
        settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
        letter = make_letter()
        url = reverse("signatures:sign", kwargs={"slug": letter.slug})
        make_signature(letter, Signature.State.SUBMITTED, email="pending@example.org")
        make_signature(letter, Signature.State.APPROVED, email="signed@example.org")
        BlockedDomain.objects.create(domain="blocked.example")
        kinds = {
            "new": lambda n: sign_data(letter, email=f"new{n}@example.org"),
            "pending": lambda n: sign_data(letter, email="pending@example.org"),
            "approved": lambda n: sign_data(letter, email="signed@example.org"),
            "blocklisted": lambda n: sign_data(letter, email=f"b{n}@blocked.example"),
            "held": lambda n: sign_data(letter, email=f"held{n}@example.org"),
            "held pending": lambda n: sign_data(letter, email="pending@example.org"),
            "held approved": lambda n: sign_data(letter, email="signed@example.org"),
            "honeypot": lambda n: sign_data(letter, email=f"hp{n}@example.org", **{HONEYPOT_FIELD: "x"}),
            "too fast": lambda n: sign_data(letter, email=f"tf{n}@example.org", **form_guard(letter, seconds_ago=0)),
            "replayed": lambda n: {**replayed, "email": f"rp{n}@example.org"},
        }
        # One stamp, used once here and replayed in every round after.
        replayed = sign_data(letter, email="first-use@example.org")
        Client().post(url, replayed, REMOTE_ADDR="10.255.0.1")
        timings: dict[str, list[float]] = {kind: [] for kind in kinds}
        limits_off = {"SIGNATURES_LIMIT_EMAILS_PER_ADDRESS": "0"}
        for n in range(args.rounds):
            for kind, data in kinds.items():
                held = kind.startswith("held")
                with override_settings(
                    **limits_off,
                    SIGNATURES_LIMIT_SIGN_IP_BURST="1/3600" if held else "0",
                    SIGNATURES_LIMIT_SIGN_IP_SUSTAINED="0",
                ):
                    client = Client()
                    payload = data(n)
                    started = time.perf_counter()
                    response = client.post(url, payload, REMOTE_ADDR="198.51.100.7" if held else f"10.0.{n}.1")
                    timings[kind].append((time.perf_counter() - started) * 1000)
                    if response.status_code != 302:
                        raise SystemExit(f"{kind}: unexpected status {response.status_code}")
        print(f"{'kind':<14} {'median ms':>10} {'p90 ms':>8}")
        for kind, values in timings.items():
            values.sort()
            p90 = values[int(len(values) * 0.9) - 1]
            print(f"{kind:<14} {statistics.median(values):>10.1f} {p90:>8.1f}")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()

#!/usr/bin/env python
"""
How often impersonation matching would hold an honest signer, and how long a
match takes: realistic names (signatures.sample_names, seeded) against the
dozen famous names the tests use. Prints the false-hold rate, every name
falsely held with the reason a moderator would read, and the time per name.

    .venv/bin/python bench/impersonation.py [--count 20000] [--seed 13]

No database and no server: the matching is pure functions over strings.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "letter_site.settings")

import django

django.setup()

from signatures.abuse.impersonation import (  # noqa: E402
    NEAR_SPELLING_MIN_LETTERS,
    NEAR_SPELLING_RATIO,
    mixed_script_reason,
    read_name,
    watchlist_match,
)
from signatures.sample_names import FAMILY_NAMES, realistic_names  # noqa: E402
from tests.test_impersonation import WATCHLIST  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=13)
    # `make bench` passes its BENCH_ARGS (e.g. --duration) to every script.
    args, _ = parser.parse_known_args()
    count = max(1, min(args.count, 1_000_000))

    names = realistic_names(count, seed=args.seed)
    read_name.cache_clear()
    started = time.perf_counter()
    held = [(name, match.reason) for name in names if (match := watchlist_match(name, WATCHLIST))]
    elapsed = time.perf_counter() - started
    mixed = [(name, reason) for name in names if (reason := mixed_script_reason(name))]

    print(f"impersonation matching: {count:,} realistic names (seed {args.seed}) against {len(WATCHLIST)} entries")
    print(f"near spelling: ratio >= {NEAR_SPELLING_RATIO:g} on names of >= {NEAR_SPELLING_MIN_LETTERS} letters")
    print(f"falsely held: {len(held):,} ({100 * len(held) / count:.2f} %)")
    for name, reason in held:
        print(f"  {name!r}: {reason}")
    # The hard case: every given name of a watched person with every family
    # name in the sample, near ones included (Greta Gerwin, Paul McCarter).
    watched_given = {name.split()[0] for _, name, _ in WATCHLIST}
    near = [f"{given} {family}" for given in sorted(watched_given) for family in FAMILY_NAMES]
    near_held = [(name, match.reason) for name in near if (match := watchlist_match(name, WATCHLIST))]
    print(
        f"watched given names x every family name: {len(near):,} names, "
        f"{len(near_held):,} held ({100 * len(near_held) / len(near):.2f} %)"
    )
    for name, reason in near_held:
        print(f"  {name!r}: {reason}")
    print(f"mixed scripts in one word: {len(mixed):,} ({100 * len(mixed) / count:.2f} %)")
    for name, reason in sorted(set(mixed))[:20]:
        print(f"  {name!r}: {reason}")
    print(f"time per name (cold caches, {len(WATCHLIST)} entries): {1e6 * elapsed / count:.0f} µs")
    return 0


if __name__ == "__main__":
    sys.exit(main())

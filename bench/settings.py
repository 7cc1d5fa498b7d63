"""
The settings `make bench` serves our site with: production's, plus the trivial
view at /bench/baseline/ (bench/urls.py), so that no bench-only route or
setting lives in the production code.

BENCH_WITHOUT_MIDDLEWARE (comma-separated dotted paths) takes middleware out,
one at a time in bench/run.py, to measure what each costs per request.
"""

from __future__ import annotations

import os

from letter_site.settings import *  # noqa: F403
from letter_site.settings import MIDDLEWARE

ROOT_URLCONF = "bench.urls"

_without = {name.strip() for name in os.environ.get("BENCH_WITHOUT_MIDDLEWARE", "").split(",") if name.strip()}
_unknown = _without - set(MIDDLEWARE)
if _unknown:
    # A misspelt name would measure the full stack under the wrong label.
    raise ValueError(f"BENCH_WITHOUT_MIDDLEWARE names middleware that is not installed: {sorted(_unknown)}")
MIDDLEWARE = [name for name in MIDDLEWARE if name not in _without]

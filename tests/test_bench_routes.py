"""The bench's trivial view lives in bench/, never in the production site."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from django.test import TestCase, override_settings

from tests.factories import make_letter

ROOT = Path(__file__).resolve().parent.parent


def bench_middleware(without: str) -> subprocess.CompletedProcess:
    """bench.settings' middleware list, read in a fresh interpreter as gunicorn would."""
    return subprocess.run(
        [sys.executable, "-c", "import bench.settings as s; print('\\n'.join(s.MIDDLEWARE))"],
        cwd=ROOT,
        env={**os.environ, "BENCH_WITHOUT_MIDDLEWARE": without},
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


class BenchRoutesTests(TestCase):
    def test_the_production_site_has_no_bench_page(self):
        response = self.client.get("/bench/baseline/")
        assert response.status_code == 404

    @override_settings(ROOT_URLCONF="bench.urls")
    def test_the_bench_urls_serve_the_trivial_view_and_the_whole_site(self):
        letter = make_letter()
        response = self.client.get("/bench/baseline/")
        assert response.status_code == 200
        assert response.content == b"hello"
        assert self.client.get(f"/letters/{letter.slug}/").status_code == 200

    def test_the_bench_settings_leave_out_the_middleware_named(self):
        completed = bench_middleware("django.middleware.locale.LocaleMiddleware")
        assert completed.returncode == 0, completed.stderr
        middleware = completed.stdout.split()
        assert "django.middleware.locale.LocaleMiddleware" not in middleware
        assert "django.middleware.csrf.CsrfViewMiddleware" in middleware

    def test_a_misspelt_middleware_name_stops_the_bench_settings(self):
        completed = bench_middleware("django.middleware.locale.LocalMiddleware")
        assert completed.returncode != 0
        assert "LocalMiddleware" in completed.stderr

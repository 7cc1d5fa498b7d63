"""
The production configuration, for real: gunicorn from the committed
gunicorn.conf.py with DEBUG=0, a migrated database and static files collected
into a temporary STATIC_ROOT (tests/live_gunicorn.py),
answering the letter page, a static file, the probes and the HTTPS rules.
"""

from __future__ import annotations

import json
import re
import select
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from django.test import SimpleTestCase

from tests.live_gunicorn import ROOT, get, gunicorn, production_env, run_manage
from tests.ports import free_port

HOST = "letters.example.org"
BEHIND_TLS = {"X-Forwarded-Proto": "https"}
OPERATOR_TOKEN = "smoke-test-operator-token"


class ProductionSmokeTests(SimpleTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._tmp = tempfile.TemporaryDirectory()
        tmp = Path(cls._tmp.name)
        cls.env = production_env(
            DATABASE_URL=f"sqlite:///{tmp / 'db.sqlite3'}",
            BEHIND_TLS_PROXY="1",
            LOG_FORMAT="json",
            SIGNATURES_READYZ_TOKEN=OPERATOR_TOKEN,
        )
        run_manage("migrate", "--no-input", env=cls.env)
        run_manage("create_demo_letter", env=cls.env)
        # README, Deploy: the first organizer account (here without prompts).
        run_manage(
            "createsuperuser",
            "--no-input",
            env={
                **cls.env,
                "DJANGO_SUPERUSER_USERNAME": "organizer",
                "DJANGO_SUPERUSER_EMAIL": "organizer@example.org",
                "DJANGO_SUPERUSER_PASSWORD": "a-long-smoke-test-password",
            },
        )
        cls.log_path = tmp / "gunicorn.log"
        cls._server = gunicorn(cls.env, port=free_port(), log_path=cls.log_path)
        cls.port = cls._server.__enter__()

    @classmethod
    def tearDownClass(cls):
        cls._server.__exit__(None, None, None)
        cls._tmp.cleanup()
        super().tearDownClass()

    def fetch(self, path: str, **headers: str):
        return get(self.port, path, host=HOST, headers={**BEHIND_TLS, **headers})

    def letter_page(self) -> tuple[str, str]:
        status, headers, _body = self.fetch("/")
        assert status == 302, "the home page leads to the only open letter"
        path = headers["Location"]
        status, _headers, body = self.fetch(path)
        assert status == 200
        return path, body.decode()

    def test_the_letter_page_is_served(self):
        _path, page = self.letter_page()
        assert "<form" in page
        assert 'name="email"' in page

    def test_static_files_are_served_by_whitenoise_with_far_future_caching(self):
        _path, page = self.letter_page()
        stylesheet = re.search(r'href="(/static/css/site\.[0-9a-f]{12}\.css)"', page)
        assert stylesheet, "the page links the hashed (collected) stylesheet"
        status, headers, body = self.fetch(stylesheet.group(1))
        assert status == 200
        assert b"{" in body
        assert "max-age=315360000" in headers["Cache-Control"]
        assert "immutable" in headers["Cache-Control"]

    def test_readyz_answers_a_plain_ok_to_anyone(self):
        # README, Deploy: `curl -fsS http://127.0.0.1:8000/readyz`.
        status, headers, body = get(self.port, "/readyz")
        assert status == 200
        assert body == b"ok\n"
        assert headers["X-Robots-Tag"].startswith("noindex")

    def test_readyz_reports_ready_as_json_to_the_operator(self):
        status, headers, body = self.fetch("/readyz", Authorization=f"Bearer {OPERATOR_TOKEN}")
        report = json.loads(body)
        assert status == 200
        assert report["status"] == "ok"
        assert report["database"] == "ok"
        assert report["migrations"] == "ok"
        assert headers["X-Robots-Tag"].startswith("noindex")

    def test_plain_http_is_redirected_to_https(self):
        status, headers, _body = get(self.port, "/", host=HOST)
        assert status == 301
        assert headers["Location"].startswith(f"https://{HOST}/")

    def test_unknown_hosts_are_refused(self):
        status, _headers, body = get(self.port, "/", host="evil.example.com", headers=BEHIND_TLS)
        assert status == 400
        assert b"Traceback" not in body

    def test_probes_answer_whatever_the_host_and_scheme(self):
        # A platform probes by IP address over plain HTTP.
        status, _headers, body = get(self.port, "/healthz", host="10.1.2.3:8000")
        assert status == 200
        assert body == b"ok\n"

    def test_the_image_healthcheck_script_passes(self):
        result = subprocess.run(
            [sys.executable, "deploy/healthcheck.py"],
            cwd=ROOT,
            env={**self.env, "PORT": str(self.port)},
            capture_output=True,
            timeout=10,
            check=False,
        )
        assert result.returncode == 0, result.stderr

    def test_every_response_has_a_request_id_that_reaches_the_json_access_log(self):
        status, headers, _body = self.fetch("/healthz", **{"X-Request-ID": "smoke-abc-123"})
        assert status == 200
        assert headers["X-Request-ID"] == "smoke-abc-123"
        _status, headers, _body = self.fetch("/healthz")
        assert re.fullmatch(r"[0-9a-f]{32}", headers["X-Request-ID"])
        # gunicorn writes the access line after the response is sent: give it a moment on a busy machine.
        deadline = time.monotonic() + 5
        while True:
            access_lines = []
            for line in self.log_path.read_text().splitlines():
                if line.startswith("{"):
                    entry = json.loads(line)
                    if entry["logger"] == "gunicorn.access":
                        access_lines.append(entry)
            logged = any(
                entry.get("request_id") == "smoke-abc-123" and entry["status"] == 200 for entry in access_lines
            )
            if logged or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert logged

    def test_the_email_worker_runs_until_told_to_stop(self):
        worker = subprocess.Popen(
            [sys.executable, "manage.py", "send_emails"],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        output = []
        try:
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and worker.poll() is None:
                ready, _, _ = select.select([worker.stdout], [], [], 0.5)
                if ready:
                    output.append(worker.stdout.readline())
                    if "Email worker started" in output[-1]:
                        break
            assert worker.poll() is None, "".join(output)  # it runs, waiting for work
            assert any("Email worker started" in line for line in output), "".join(output)
        finally:
            worker.send_signal(signal.SIGTERM)
            output.append(worker.communicate(timeout=15)[0])
        assert worker.returncode == 0, "".join(output)
        assert "Traceback" not in "".join(output)

    def test_letter_stats_reads_the_production_database(self):
        report = json.loads(run_manage("letter_stats", "--json", env=self.env).stdout)
        assert [letter["slug"] for letter in report["letters"]] == ["our-work-is-not-your-training-data"]
        assert "emails" in report["queue"] or "tasks" in report["queue"]

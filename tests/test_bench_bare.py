"""The bench's anchor, a bare Django project: its hello answers, its insert stores one row."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from django.test import SimpleTestCase

BARE = Path(__file__).resolve().parent.parent / "bench" / "bare"

# Run inside the bare project (its own settings, not ours), as gunicorn would load it.
SCRIPT = """
from django.test import Client
from hello.models import Hit
client = Client(SERVER_NAME="127.0.0.1")
hello = client.get("/hello/")
insert = client.post("/insert/")
print(hello.status_code, hello.content.decode(), insert.status_code, Hit.objects.count())
"""


class BareAnchorTests(SimpleTestCase):
    def test_the_bare_project_says_hello_and_inserts_one_row(self):
        with tempfile.TemporaryDirectory() as directory:
            env = {
                **os.environ,
                "DATABASE_URL": f"sqlite:///{directory}/bare.sqlite3",
                "DJANGO_SETTINGS_MODULE": "bare_site.settings",
            }

            def manage(*args: str) -> str:
                completed = subprocess.run(  # noqa: S603 (the bare manage.py with the test's own arguments)
                    [sys.executable, "manage.py", *args],
                    cwd=BARE,
                    env=env,
                    capture_output=True,
                    text=True,
                    check=False,
                    timeout=120,
                )
                assert completed.returncode == 0, completed.stderr
                return completed.stdout

            manage("migrate", "--no-input", "-v0")
            assert manage("shell", "-v0", "-c", SCRIPT).split() == ["200", "hello", "200", "1"]

    def test_the_bare_project_uses_django_s_default_middleware_and_nothing_of_ours(self):
        settings = (BARE / "bare_site" / "settings.py").read_text()
        assert "signatures" not in settings
        assert "letter_site" not in settings

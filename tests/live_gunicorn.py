"""
A real gunicorn, started from the committed gunicorn.conf.py on a free port,
for the production smoke test and the database outage test. Always stopped:
use it as a context manager.
"""

from __future__ import annotations

import atexit
import functools
import http.client
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).with_name("gunicorn")


def production_env(**overrides: str) -> dict[str, str]:
    """The environment of a production process: DEBUG off, nothing inherited from the test run's settings."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "PYTEST_"))}
    env.update(
        {
            "DEBUG": "0",
            "SECRET_KEY": "smoke-test-secret-key-" + "x" * 40,
            "ALLOWED_HOSTS": "letters.example.org,127.0.0.1",
            "SITE_URL": "https://letters.example.org",
            "TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
            "WEB_CONCURRENCY": "2",
            "GUNICORN_MAX_REQUESTS": "0",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
    )
    env.update(overrides)
    if "STATIC_ROOT" not in env:
        env["STATIC_ROOT"] = collected_static()
    return env


def run_manage(*args: str, env: Mapping[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 (manage.py with the test's own arguments)
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=True,
    )


def get(port: int, path: str, *, host: str = "127.0.0.1", headers: Mapping[str, str] | None = None, timeout=5):
    """(status, headers, body) of one GET; a fresh connection each time."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path, headers={"Host": host, **(headers or {})})
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


@functools.cache
def collected_static() -> str:
    """STATIC_ROOT for production processes: collectstatic once per test run (DEBUG=0 needs the manifest)."""
    static_root = tempfile.mkdtemp(prefix="undersigned-static-")
    atexit.register(shutil.rmtree, static_root, ignore_errors=True)
    run_manage("collectstatic", "--no-input", env=production_env(STATIC_ROOT=static_root))
    return static_root


@contextmanager
def gunicorn(env: Mapping[str, str], *, port: int, log_path: Path, ready_within: float = 20) -> Iterator[int]:
    """Run `gunicorn -c gunicorn.conf.py letter_site.wsgi` until the block ends; yield its port."""
    env = {**env, "PORT": str(port)}
    with log_path.open("w") as log:
        process = subprocess.Popen(  # noqa: S603 (our own gunicorn, fixed arguments)
            [str(GUNICORN), "--config", "gunicorn.conf.py", "letter_site.wsgi"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + ready_within
            while True:
                if process.poll() is not None:
                    raise AssertionError(f"gunicorn exited with {process.returncode}:\n{log_path.read_text()}")
                try:
                    if get(port, "/healthz", timeout=1)[0] == 200:
                        break
                except OSError:
                    pass
                if time.monotonic() > deadline:
                    raise AssertionError(f"gunicorn did not answer within {ready_within}s:\n{log_path.read_text()}")
                time.sleep(0.1)
            yield port
        finally:
            _stop(process)


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        # The master stops its workers gracefully; the process group is killed only if it hangs.
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)

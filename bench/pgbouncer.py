#!/usr/bin/env python
"""
Scaling out: several gunicorn instances sharing one PostgreSQL through
PgBouncer in transaction pooling, driven by bench/hot_counter.py.

    .venv/bin/python bench/pgbouncer.py [--instances 3] [--workers 3] [--pool-size 8] [hot_counter options]

It writes a PgBouncer configuration into a temporary directory, starts its own
PgBouncer on a free loopback port (never the system one), points the web
processes at it with DATABASE_DISABLE_SERVER_SIDE_CURSORS=1, runs the load,
then stops PgBouncer and removes the directory. The database is
BENCH_DATABASE_URL's, as for bench/hot_counter.py.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/undersigned_bench")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def write_config(directory: Path, *, port: int, pool_size: int) -> Path:
    url = urllib.parse.urlsplit(DATABASE_URL)
    name = url.path.lstrip("/")
    user = url.username or "postgres"
    (directory / "userlist.txt").write_text(f'"{user}" ""\n')
    config = directory / "pgbouncer.ini"
    config.write_text(
        "\n".join(
            [
                "[databases]",
                f"{name} = host={url.hostname} port={url.port or 5432} dbname={name} user={user}",
                "[pgbouncer]",
                "listen_addr = 127.0.0.1",
                f"listen_port = {port}",
                f"unix_socket_dir = {directory}",
                "auth_type = trust",
                f"auth_file = {directory / 'userlist.txt'}",
                "pool_mode = transaction",
                f"default_pool_size = {pool_size}",
                "max_client_conn = 500",
                # Django sends a statement timeout as a startup option; PgBouncer
                # cannot carry it per transaction, so it is ignored here.
                "ignore_startup_parameters = extra_float_digits, options",
                f"logfile = {directory / 'pgbouncer.log'}",
                f"pidfile = {directory / 'pgbouncer.pid'}",
                "",
            ]
        )
    )
    return config


def start(config: Path, port: int) -> subprocess.Popen:
    binary = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
    if not Path(binary).exists():
        sys.exit("pgbouncer is not installed (apt-get install pgbouncer)")
    # PgBouncer refuses to run as root: there, it runs as nobody, in a directory it may write to.
    prefix = []
    if os.geteuid() == 0:
        config.parent.chmod(0o777)
        prefix = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]
    process = subprocess.Popen([*prefix, binary, str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return process
        time.sleep(0.1)
    process.kill()
    sys.exit("pgbouncer did not listen within 10 s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--instances", type=int, default=3)
    parser.add_argument("--workers", type=int, default=3, help="Sync workers per gunicorn (default 3).")
    parser.add_argument("--pool-size", type=int, default=8, help="Server connections PgBouncer opens (default 8).")
    options, rest = parser.parse_known_args()
    port = free_port()
    directory = Path(tempfile.mkdtemp(prefix="undersigned-pgbouncer-"))
    process = start(write_config(directory, port=port, pool_size=options.pool_size), port)
    url = urllib.parse.urlsplit(DATABASE_URL)
    pooled = f"postgres://{url.username or 'postgres'}@127.0.0.1:{port}{url.path}"
    try:
        command = [sys.executable, str(ROOT / "bench" / "hot_counter.py")]
        command += ["--instances", str(options.instances), "--workers", str(options.workers)]
        command += ["--web-database-url", pooled, "--env", "DATABASE_DISABLE_SERVER_SIDE_CURSORS=1", *rest]
        completed = subprocess.run(command, check=False, timeout=600)
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(directory, ignore_errors=True)
    sys.exit(completed.returncode)


if __name__ == "__main__":
    main()

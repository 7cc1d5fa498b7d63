"""
Scaling out: three gunicorn instances (the committed config, DEBUG=0) share
one PostgreSQL through PgBouncer in transaction pooling, with
DATABASE_DISABLE_SERVER_SIDE_CURSORS=1. Concurrent signers through all three
are all answered, every signature is stored once and the counts are exact;
the streamed export works through the pooler.
"""

from __future__ import annotations

import http.client
import os
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import urllib.parse
from contextlib import ExitStack
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test import TransactionTestCase

from signatures import services
from signatures.models import AllowedNetwork, Signature, SignatureCounter
from tests.factories import make_letter, sign_data
from tests.live_gunicorn import get, gunicorn, production_env
from tests.ports import free_port

PGBOUNCER = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
INSTANCES = 3
CLIENTS = 6
EACH = 5

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PgBouncer pools PostgreSQL connections only."),
    pytest.mark.skipif(not Path(PGBOUNCER).exists(), reason="pgbouncer is not installed (apt-get install pgbouncer)."),
]


def unprivileged(directory: Path) -> list[str]:
    """PgBouncer refuses to run as root: there, it runs as nobody, in a directory it may write to."""
    if os.geteuid() != 0:
        return []
    directory.chmod(0o777)
    return ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]


def start_pgbouncer(
    directory: Path, *, database: str, host: str, port: int, user: str
) -> tuple[subprocess.Popen, int]:
    """Our own PgBouncer on a free loopback port, transaction pooling, configured in `directory`."""
    listen = free_port()
    (directory / "userlist.txt").write_text(f'"{user}" ""\n')
    config = directory / "pgbouncer.ini"
    config.write_text(
        f"[databases]\n{database} = host={host} port={port} dbname={database} user={user}\n"
        f"[pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = {listen}\nunix_socket_dir = {directory}\n"
        f"auth_type = trust\nauth_file = {directory / 'userlist.txt'}\npool_mode = transaction\n"
        "default_pool_size = 4\nmax_client_conn = 200\n"
        # A statement timeout arrives as a startup option, which PgBouncer cannot pass on per transaction.
        "ignore_startup_parameters = extra_float_digits, options\n"
        f"logfile = {directory / 'pgbouncer.log'}\npidfile = {directory / 'pgbouncer.pid'}\n"
    )
    process = subprocess.Popen(  # noqa: S603 (our own pgbouncer, fixed arguments)
        [*unprivileged(directory), PGBOUNCER, str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", listen)) == 0:
                return process, listen
        time.sleep(0.1)
    process.kill()
    raise AssertionError("pgbouncer did not listen within 10 s")


class ThreeGunicornsThroughPgBouncerTests(TransactionTestCase):
    def setUp(self):
        self.letter = make_letter(title="Pooled", requires_moderation=False)
        # One address for all the test's clients: the per-IP limit would hold them for review.
        AllowedNetwork.objects.create(cidr="127.0.0.1/32", note="the test's clients")
        self.tmp = Path(tempfile.mkdtemp(prefix="undersigned-pgbouncer-test-"))
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)
        db = connection.settings_dict
        user = db["USER"] or "postgres"
        process, self.pooler_port = start_pgbouncer(
            self.tmp, database=db["NAME"], host=db["HOST"] or "127.0.0.1", port=int(db["PORT"] or 5432), user=user
        )
        self.addCleanup(process.wait, 10)
        self.addCleanup(process.terminate)
        self.env = production_env(
            DATABASE_URL=f"postgres://{urllib.parse.quote(user)}@127.0.0.1:{self.pooler_port}/{db['NAME']}",
            DATABASE_DISABLE_SERVER_SIDE_CURSORS="1",
            SECRET_KEY=settings.SECRET_KEY,  # the form's anti-bot stamp is signed with it
            SECURE_SSL_REDIRECT="0",
            CACHE_URL="dbcache://undersigned_cache",
            WEB_CONCURRENCY="2",
            # These clients post the form as soon as they have it.
            SIGNATURES_MIN_FILL_SECONDS="0",
        )

    def sign(self, port: int, email: str) -> int:
        status, headers, body = get(port, self.letter.get_absolute_url())
        assert status == 200
        cookie = re.search(r"csrftoken=([^;]+)", headers.get("Set-Cookie", "")).group(1)
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1).decode()
        # The stamp drawn in this page: a stamp is good for one submission, in the form it came in.
        stamp = re.search(rb'name="form_stamp" value="([^"]+)"', body).group(1).decode()
        form = {**self.form, "csrfmiddlewaretoken": token, "form_stamp": stamp, "email": email}
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            conn.request(
                "POST",
                f"/letters/{self.letter.slug}/sign/",
                body=urllib.parse.urlencode(form),
                headers={"Cookie": f"csrftoken={cookie}", "Content-Type": "application/x-www-form-urlencoded"},
            )
            response = conn.getresponse()
            response.read()
            return response.status
        finally:
            conn.close()

    def test_concurrent_signers_through_three_instances_are_all_stored_once_and_counted_exactly(self):
        # Built here: the client threads must not open database connections of their own.
        self.form = sign_data(self.letter, full_name="Pooled Signer")
        with ExitStack() as stack:
            ports = [
                stack.enter_context(gunicorn(self.env, port=free_port(), log_path=self.tmp / f"gunicorn{n}.log"))
                for n in range(INSTANCES)
            ]
            statuses: list[int] = []
            barrier = threading.Barrier(CLIENTS)

            def client(number: int) -> None:
                barrier.wait()
                for i in range(EACH):
                    port = ports[(number + i) % INSTANCES]
                    statuses.append(self.sign(port, f"pooled{number}.{i}@studio{number}.example.org"))

            threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=120)
            export = get(ports[0], f"/letters/{self.letter.slug}/signatories.csv", timeout=30)
        logs = "".join(path.read_text() for path in self.tmp.glob("gunicorn*.log"))
        assert statuses == [302] * (CLIENTS * EACH), logs[-3000:]
        assert "Traceback" not in logs, logs[-3000:]
        assert Signature.objects.filter(letter=self.letter).count() == CLIENTS * EACH
        submitted = SignatureCounter.state_key(Signature.State.SUBMITTED)
        assert SignatureCounter.value_for(self.letter, submitted) == CLIENTS * EACH
        assert services.recount_letter(letter=self.letter) == {}
        # The streamed export iterates without a server-side cursor through the pooler.
        assert export[0] == 200

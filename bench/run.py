#!/usr/bin/env python
"""
`make bench`: how fast Undersigned is on this machine, against PostgreSQL and
gunicorn (2 sync workers), at a million signatures, as ratios to a bare Django.

    .venv/bin/python bench/run.py [--duration 10] [--rows 1000000] [--markdown] [--only WORDS]

Needs wrk (Debian's package; installed with apt-get if missing), PostgreSQL and
Redis. It loads a million signatures into `undersigned_bench` once (later runs
reuse them) and measures, each scenario with wrk at its default concurrency
(2 threads, 10 connections) after a 2-second warm-up:

1. the anchor: a bare Django project (bench/bare/: Django's default middleware,
   one view returning "hello", one inserting one row), served by gunicorn with
   no config file and no access log — before everything else;
2. our site as production serves it (DEBUG=0, our gunicorn.conf.py, Redis cache,
   whitenoise) through bench/settings.py, which adds our trivial view: the
   pages, sign POSTs, the CSV export, the pages again without the page cache;
3. our trivial view with each middleware left out in turn and gunicorn with and
   without our config and access log: what each costs per request, as requests/s
   and as the workers' CPU time per request (which other load hardly moves);
4. the bare hello again, after.

Every figure prints as a ratio to the mean of the two bare hellos, with the load
average at the start and the end; SVG charts go to bench/out/ and a copy to
bench/charts/ (bench/RESULTS.md shows them). It stops gunicorn however it ends.

The load generator's address (127.0.0.1) is allow-listed for the per-IP abuse
limits (an AllowedNetwork row), and every signature uses its own email domain,
so the sign POSTs measure the full path rather than the hold-for-review path.
The output says so.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import html.parser
import http.cookies
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import charts as charts_module

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
LUA = Path(__file__).resolve().parent / "lua"
BARE = Path(__file__).resolve().parent / "bare"
CHARTS = Path(__file__).resolve().parent / "charts"
PYTHON = sys.executable
PORT = int(os.environ.get("BENCH_PORT", "8765"))
BASE_URL = f"http://127.0.0.1:{PORT}"

BENCH_ENV = {
    "DATABASE_URL": os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/undersigned_bench"),
    "CACHE_URL": os.environ.get("BENCH_CACHE_URL", "redis://127.0.0.1:6379/7"),
    "DEBUG": "0",
    "SECRET_KEY": "bench-only-secret-key-not-for-production-" + "x" * 20,
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    "SITE_URL": BASE_URL,
    # Plain HTTP on loopback: no redirect to HTTPS.
    "SECURE_SSL_REDIRECT": "0",
    # Production's settings plus the trivial view (bench/settings.py).
    "DJANGO_SETTINGS_MODULE": "bench.settings",
    "EMAIL_URL": "dummymail://",
    "LOG_LEVEL": "WARNING",
    "WEB_CONCURRENCY": "2",
    "GUNICORN_THREADS": "1",
    "GUNICORN_BIND": f"127.0.0.1:{PORT}",
    # No worker recycling in the middle of a measurement.
    "GUNICORN_MAX_REQUESTS": "0",
    # A sync worker is killed after GUNICORN_TIMEOUT (30 s in production) even while
    # it streams: the million-row export must not be cut off on a busy machine.
    "GUNICORN_TIMEOUT": "120",
    "GUNICORN_LOG_LEVEL": "warning",
    "PYTHONUNBUFFERED": "1",
}

FIRST_NAMES = ["Agnès", "José", "Łukasz", "Søren", "Nguyễn", "Zoë", "Müge", "Ана", "さくら", "Chinwe"]
LAST_NAMES = ["Varda", "López", "Wiśniewski", "Ødegård", "Thảo", "Brontë", "Öztürk", "Иванова", "佐藤", "Okonkwo"]


def log(message: str) -> None:
    print(f"[bench {datetime.now(UTC):%H:%M:%S}] {message}", flush=True)


# --- set-up -----------------------------------------------------------------


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    log("wrk is missing: installing Debian's package")
    apt = ["apt-get", "install", "-y", "-q", "wrk"]
    if subprocess.run(apt, check=False, capture_output=True).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], check=True, capture_output=True)
        subprocess.run(apt, check=True, capture_output=True)
    return shutil.which("wrk") or sys.exit("wrk could not be installed")


def ensure_database() -> None:
    import psycopg2

    url = urllib.parse.urlsplit(BENCH_ENV["DATABASE_URL"])
    name = url.path.lstrip("/")
    connection = psycopg2.connect(
        host=url.hostname, port=url.port or 5432, user=url.username or "postgres", dbname="postgres"
    )
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            log(f"creating database {name}")
            cursor.execute(f'CREATE DATABASE "{name}"')
    connection.close()


def manage(*args: str) -> None:
    subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, check=True, env={**os.environ, **BENCH_ENV})


def setup_django() -> None:
    os.environ.update(BENCH_ENV)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "letter_site.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


@dataclass
class Fixture:
    slug: str
    letter_id: int
    profession_id: int
    deep_cursor: str
    session_cookie: str
    csrf_cookie_name: str
    allow_listed: str
    min_fill_seconds: int
    public_rows: int
    signatures: int


def prepare(rows: int) -> Fixture:
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test import Client

    from signatures import models
    from signatures.management.commands.create_demo_letter import SLUG
    from signatures.pagination import Cursor

    if not models.Letter.objects.filter(slug=SLUG).exists():
        call_command("create_demo_letter")
    letter = models.Letter.objects.get(slug=SLUG)
    if not letter.is_accepting_signatures:
        sys.exit(f"The bench letter {SLUG} does not accept signatures (status {letter.status}).")
    existing = models.Signature.objects.filter(letter=letter).count()
    if existing < rows:
        log(f"loading {rows - existing:,} signatures (once; later runs reuse them)")
        call_command("generate_signatures", rows - existing, letter=SLUG, seed=20261123)
    else:
        log(f"reusing {existing:,} signatures already loaded")

    allow_listed = "nothing allow-listed"
    if hasattr(models, "AllowedNetwork"):
        models.AllowedNetwork.objects.get_or_create(
            cidr="127.0.0.1/32", defaults={"note": "make bench: the load generator"}
        )
        allow_listed = "127.0.0.1/32 is an AllowedNetwork (per-IP limits do not hold the load generator)"

    user_model = get_user_model()
    user, created = user_model.objects.get_or_create(
        username="bench-moderator", defaults={"is_staff": True, "is_superuser": True}
    )
    if created:
        user.set_unusable_password()
        user.save()
    client = Client()
    client.force_login(user)
    session_cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"

    listed = models.Signature.objects.listed().filter(letter=letter)
    public_rows = models.SignatureCounter.value_for(letter, models.SignatureCounter.LISTED)
    # The cursor equivalent of page 10,000 (or the middle, for smaller data sets).
    page = settings.SIGNATURES_PAGE_SIZE
    depth = min(10_000 * page, public_rows // 2) - page - 1
    row = listed.only("is_notable", "is_founding", "approved_at", "id")[depth]
    profession = letter.professions.order_by("position").first()
    return Fixture(
        slug=SLUG,
        letter_id=letter.pk,
        profession_id=profession.pk,
        deep_cursor=Cursor.of(row).encode(),
        session_cookie=session_cookie,
        csrf_cookie_name=settings.CSRF_COOKIE_NAME,
        allow_listed=allow_listed,
        min_fill_seconds=getattr(settings, "SIGNATURES_MIN_FILL_SECONDS", 0),
        public_rows=public_rows,
        signatures=models.Signature.objects.filter(letter=letter).count(),
    )


# --- gunicorn -----------------------------------------------------------------


class Server:
    """
    gunicorn with 2 sync workers, started from bench/out/ so that gunicorn finds
    no config file by itself: ours only when `config` says so.
    """

    def __init__(
        self,
        *,
        app: str = "letter_site.wsgi",
        chdir: Path = ROOT,
        config: bool = True,
        env: dict | None = None,
        args: tuple[str, ...] = (),
    ) -> None:
        self.process: subprocess.Popen | None = None
        self.log = OUT / "gunicorn.log"
        self.app, self.chdir, self.config, self.env, self.args = app, chdir, config, env or {}, args

    @classmethod
    def bare(cls) -> Server:
        """The bare Django project (bench/bare/), as `gunicorn bare_site.wsgi` with no config and no access log."""
        env = {"DATABASE_URL": BENCH_ENV["DATABASE_URL"], "DJANGO_SETTINGS_MODULE": "bare_site.settings"}
        return cls(app="bare_site.wsgi", chdir=BARE, config=False, env=env)

    def start(self) -> None:
        command = [str(Path(PYTHON).parent / "gunicorn"), self.app, "--chdir", str(self.chdir)]
        if self.config:
            command += ["-c", str(ROOT / "gunicorn.conf.py")]
        else:
            # Not a setting of ours: gunicorn's default control socket is one path per
            # user, which another gunicorn on this machine may hold.
            command += ["--no-control-socket"]
        command += ["--workers", "2", "--bind", f"127.0.0.1:{PORT}", "--max-requests", "0"]
        command += ["--timeout", BENCH_ENV["GUNICORN_TIMEOUT"], *self.args]
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                command,
                cwd=OUT,
                env={**os.environ, **BENCH_ENV, **self.env},
                stdout=out,
                stderr=out,
                start_new_session=True,
            )
        # Up once it answers anything: whether the page works is check()'s to say.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{BASE_URL}/", timeout=2):  # noqa: S310
                    return
            except urllib.error.HTTPError:
                return
            except OSError:
                time.sleep(0.3)
        self.stop()
        sys.exit(f"gunicorn did not answer within 30 s; see {self.log}")

    def worker_pids(self) -> list[int]:
        if not self.process:
            return []
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in children.read_text().split()] if children.exists() else []

    def cpu_seconds(self) -> float:
        """User and system CPU time of the workers so far."""
        ticks = os.sysconf("SC_CLK_TCK")
        total = 0
        for pid in self.worker_pids():
            # The fields after the command name, which may hold spaces: utime and stime are 14 and 15.
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        return total / ticks

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.process = None


def memory_kib(pid: int, field_name: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field_name + ":"):
            return int(line.split()[1])
    return 0


# --- wrk ----------------------------------------------------------------------


@dataclass
class Result:
    name: str
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int
    note: str = ""
    extra: dict = field(default_factory=dict)


def run_wrk(wrk: str, name: str, path: str, *, script: Path, duration: int, env: dict | None = None,
            headers: tuple[str, ...] = ()) -> Result:  # fmt: skip
    # wrk's default 2 threads and 10 connections; a slow page is timed, not dropped at 2 s.
    command = [wrk, "-t2", "-c10", f"-d{duration}s", "--timeout", "10s", "--latency", "-s", str(script)]
    for header in headers:
        command += ["-H", header]
    command.append(BASE_URL + path)
    completed = subprocess.run(
        command, capture_output=True, text=True, env={**os.environ, **(env or {})}, timeout=duration + 60, check=False
    )
    match = re.search(r"^BENCH_JSON (.*)$", completed.stdout, re.MULTILINE)
    if not match:
        sys.exit(f"wrk gave no result for {name}:\n{completed.stdout}\n{completed.stderr}")
    data = json.loads(match.group(1))
    seconds = data["duration_us"] / 1e6
    return Result(
        name=name,
        requests_per_second=data["requests"] / seconds,
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        requests=data["requests"],
        errors=data["errors"],
    )


def status_of(path: str, *, headers: dict | None = None, method: str = "GET") -> int:
    data = b"" if method == "POST" else None
    request = urllib.request.Request(BASE_URL + path, headers=headers or {}, data=data, method=method)  # noqa: S310

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        return opener.open(request, timeout=30).status
    except urllib.error.HTTPError as error:
        return error.code


def check(path: str, *, headers: dict | None = None, expect: int = 200, method: str = "GET") -> None:
    """One request before measuring: a page that fails would be measured fast and wrong."""
    status = status_of(path, headers=headers, method=method)
    if status != expect:
        sys.exit(f"{path} answered {status}, not {expect}: not measuring it.")


class _FormParser(html.parser.HTMLParser):
    """The inputs of the sign form, as a browser would submit them."""

    def __init__(self, action: str) -> None:
        super().__init__()
        self.action = action
        self.inside = False
        self.fields: dict[str, str] = {}
        self.select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.inside = attributes.get("action") == self.action
        if not self.inside:
            return
        name = attributes.get("name")
        if tag == "input" and name:
            kind = attributes.get("type", "text")
            if kind == "checkbox":
                self.fields[name] = attributes.get("value") or "on"
            elif kind == "hidden":
                self.fields[name] = attributes.get("value", "")
            elif kind not in ("submit", "button"):
                # Text fields the bench does not know stay empty, as a honeypot must.
                self.fields.setdefault(name, "")
        elif tag == "select" and name:
            self.select = name
        elif tag == "option" and self.select and attributes.get("value") and self.select not in self.fields:
            self.fields[self.select] = attributes["value"]
        elif tag == "textarea" and name:
            self.fields[name] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self.select = None


# The most sign forms drawn before a sign run (each GET costs the bench a page).
MAX_SIGN_FORMS = 30_000


def draw_sign_form(base_url: str, slug: str, cookie_name: str, number: int, run: str) -> str:
    """
    One drawing of the letter page as a new visitor would get it, as the line
    bench/lua/sign.lua reads: its csrftoken cookie, then the form's urlencoded
    body with the page's own form token and stamp, and a signer of its own.
    """
    with urllib.request.urlopen(f"{base_url}/letters/{slug}/", timeout=30) as response:  # noqa: S310
        page = response.read().decode()
        cookies = http.cookies.SimpleCookie()
        for header in response.headers.get_all("Set-Cookie") or []:
            cookies.load(header)
    parser = _FormParser(f"/letters/{slug}/sign/")
    parser.feed(page)
    fields = parser.fields
    if "email" not in fields or cookie_name not in cookies:
        sys.exit("No sign form or no CSRF cookie on the letter page.")
    first, last = FIRST_NAMES[number % len(FIRST_NAMES)], LAST_NAMES[number // len(FIRST_NAMES) % len(LAST_NAMES)]
    fields.update(
        # Its own domain: the per-domain limit would otherwise hold the run.
        email=f"signer.{run}.{number}@d{number}.{run}.example.org",
        full_name=f"{first} {last}",
        title="Benchmark",
        affiliation="Load Studio",
        city="Paris",
        country="France",
    )
    return f"{cookies[cookie_name].value} {urllib.parse.urlencode(fields)}"


def draw_sign_forms(
    count: int,
    run: str,
    *,
    slug: str,
    base_url: str = BASE_URL,
    cookie_name: str = "csrftoken",
    name: str = "sign_forms.txt",
) -> Path:
    """`count` real forms, drawn over HTTP by a few threads, one line each in a file for wrk (bench/lua/sign.lua)."""
    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        lines = list(pool.map(lambda number: draw_sign_form(base_url, slug, cookie_name, number, run), range(count)))
    path = OUT / name
    path.write_text("\n".join(lines) + "\n")
    log(f"drew {count:,} sign forms in {time.monotonic() - started:.0f} s")
    return path


# --- scenarios ------------------------------------------------------------------


def log_result(result: Result) -> None:
    log(
        f"{result.name}: {result.requests_per_second:,.0f} req/s, "
        f"p50 {result.p50_ms:.1f} ms, p99 {result.p99_ms:.1f} ms{'; ' + result.note if result.note else ''}"
    )


TRIVIAL = "our trivial view"
BARE_HELLO = "bare hello"


def scenarios(fixture: Fixture) -> list[tuple[str, str, tuple[str, ...]]]:
    slug = fixture.slug
    return [
        (TRIVIAL, "/bench/baseline/", ()),
        ("letter page GET", f"/letters/{slug}/", ()),
        ("public list, first page", f"/letters/{slug}/signatories/", ()),
        ("public list, page 10,000", f"/letters/{slug}/signatories/?after={fixture.deep_cursor}", ()),
        ("public list, search 'lopez'", f"/letters/{slug}/signatories/?q=lopez", ()),
        ("public list, profession", f"/letters/{slug}/signatories/?profession={fixture.profession_id}", ()),
        ("count endpoint", f"/letters/{slug}/count.json", ()),
        (
            "admin moderation queue",
            f"/admin/signatures/signature/?letter__id__exact={fixture.letter_id}",
            (f"Cookie: {fixture.session_cookie}",),
        ),
    ]


def measure(
    wrk: str,
    chosen: list[tuple[str, str, tuple[str, ...]]],
    duration: int,
    *,
    server: Server,
    suffix: str = "",
) -> list[Result]:
    get_script = OUT / "get.lua"
    get_script.write_text((LUA / "report.lua").read_text())
    results = []
    for number, (name, path, headers) in enumerate(chosen, start=1):
        log(f"[{number}/{len(chosen)}] {name + suffix}: 2 s warm-up, then {duration} s of load")
        check(path, headers=dict(h.split(": ", 1) for h in headers))
        run_wrk(wrk, name, path, script=get_script, duration=2, headers=headers)  # warm-up
        cpu = server.cpu_seconds()
        result = run_wrk(wrk, name + suffix, path, script=get_script, duration=duration, headers=headers)
        result.extra["cpu_us"] = (server.cpu_seconds() - cpu) / max(result.requests, 1) * 1e6
        log_result(result)
        results.append(result)
    return results


def measure_bare(wrk: str, duration: int, *, suffix: str, insert: bool) -> list[Result]:
    """The bare project's hello (and its one-row insert), on a server started for it alone."""
    server = Server.bare()
    log(f"starting the bare Django project (bench/bare/): {BARE_HELLO} {suffix}")
    server.start()
    try:
        results = measure(wrk, [(BARE_HELLO, "/hello/", ())], duration, server=server, suffix=f" ({suffix})")
        if insert:
            script = OUT / "post.lua"
            script.write_text((LUA / "post.lua").read_text() + "\n" + (LUA / "report.lua").read_text())
            log(f"bare insert: 2 s warm-up, then {duration} s of POSTs, one row each")
            check("/insert/", method="POST")
            run_wrk(wrk, "bare insert", "/insert/", script=script, duration=2)
            cpu = server.cpu_seconds()
            result = run_wrk(wrk, "bare insert (one ORM row)", "/insert/", script=script, duration=duration)
            result.extra["cpu_us"] = (server.cpu_seconds() - cpu) / max(result.requests, 1) * 1e6
            log_result(result)
            results.append(result)
    finally:
        server.stop()
    return results


# Our stack piece by piece, on the trivial view: (name, our gunicorn config?, environment, gunicorn arguments).
# Removing one middleware that later ones need (sessions before auth, say) breaks the
# view: that row says so instead of a figure.
def stack_variants(middleware: list[str]) -> list[tuple[str, bool, dict, tuple[str, ...]]]:
    django_default = {
        "django.middleware.security.SecurityMiddleware",
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.middleware.common.CommonMiddleware",
        "django.middleware.csrf.CsrfViewMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
        "django.contrib.messages.middleware.MessageMiddleware",
        "django.middleware.clickjacking.XFrameOptionsMiddleware",
    }
    ours_only = ",".join(name for name in middleware if name not in django_default)
    variants = [
        ("stack: production (our config, access log)", True, {}, ()),
        ("stack: access log as JSON (LOG_FORMAT=json)", True, {"LOG_FORMAT": "json"}, ()),
        ("stack: access log not redacted", True, {}, ("--logger-class", "gunicorn.glogging.Logger")),
        ("stack: no access log (GUNICORN_ACCESS_LOG=0)", True, {"GUNICORN_ACCESS_LOG": "0"}, ()),
        ("stack: no gunicorn config, no access log", False, {}, ()),
        ("stack: Django's default middleware only", True, {"BENCH_WITHOUT_MIDDLEWARE": ours_only}, ()),
        ("stack: no middleware at all", True, {"BENCH_WITHOUT_MIDDLEWARE": ",".join(middleware)}, ()),
    ]
    variants += [
        (f"stack: without {name.rsplit('.', 1)[-1]}", True, {"BENCH_WITHOUT_MIDDLEWARE": name}, ())
        for name in middleware
    ]
    return variants


def measure_stack(wrk: str, duration: int, chosen: Callable[[str], bool]) -> list[Result]:
    from django.conf import settings

    variants = [v for v in stack_variants(list(settings.MIDDLEWARE)) if chosen(v[0])]
    get_script = OUT / "get.lua"
    get_script.write_text((LUA / "report.lua").read_text())
    results = []
    for number, (name, config, env, args) in enumerate(variants, start=1):
        log(f"[stack {number}/{len(variants)}] {name}: restart, 2 s warm-up, {duration} s of load")
        server = Server(config=config, env=env, args=args)
        server.start()
        try:
            status = status_of("/bench/baseline/")
            if status != 200:
                results.append(Result(name, 0, 0, 0, 0, 1, note=f"the trivial view answers {status} without it"))
                log(f"{name}: the trivial view answers {status}; not measured")
                continue
            run_wrk(wrk, name, "/bench/baseline/", script=get_script, duration=2)
            before = server.cpu_seconds()
            result = run_wrk(wrk, name, "/bench/baseline/", script=get_script, duration=duration)
            # CPU time the workers spent per request: other work on the machine slows
            # requests/s down, it hardly changes this.
            result.extra["cpu_us"] = (server.cpu_seconds() - before) / max(result.requests, 1) * 1e6
            result.note = f"{result.extra['cpu_us']:,.0f} µs of worker CPU per request"
            log_result(result)
            results.append(result)
        finally:
            server.stop()
    return results


# More than this share of sign POSTs not creating a signature (caught as bots,
# held, or failed) and the figure is no longer a signature's.
MAX_NOT_SIGNED_SHARE = 0.03


def measure_sign(wrk: str, fixture: Fixture, duration: int) -> Result:
    from signatures.models import CaughtSubmission, Signature

    run = uuid.uuid4().hex[:8]
    action = f"/letters/{fixture.slug}/sign/"
    # Stamps are single-use and bound to the CSRF token of their form: one real form per POST.
    forms = draw_sign_forms(
        min(duration * 600, MAX_SIGN_FORMS), run, slug=fixture.slug, cookie_name=fixture.csrf_cookie_name
    )
    # The form refuses one filled faster than a person could: wait as a person would.
    time.sleep(fixture.min_fill_seconds + 1)
    env = {
        "BENCH_SIGN_FORMS": str(forms),
        "BENCH_SIGN_PATH": action,
        "BENCH_CSRF_COOKIE": fixture.csrf_cookie_name,
        "BENCH_THREADS": "2",
    }
    script = OUT / "sign.lua"
    script.write_text((LUA / "sign.lua").read_text() + "\n" + (LUA / "report.lua").read_text())

    def caught_so_far() -> int:
        return sum(CaughtSubmission.objects.filter(letter_id=fixture.letter_id).values_list("count", flat=True))

    before = Signature.objects.filter(letter_id=fixture.letter_id).count()
    caught_before = caught_so_far()
    result = run_wrk(
        wrk, "sign POST (new signature + queued email)", action, script=script, duration=duration, env=env
    )
    ours = Signature.objects.filter(letter_id=fixture.letter_id, email_normalized__contains=f".{run}.")
    created = ours.count()
    held = ours.filter(hold_reason__gt="").count()
    caught = caught_so_far() - caught_before
    after = Signature.objects.filter(letter_id=fixture.letter_id).count()
    result.note = (
        f"{created:,} signatures created ({held} held), {caught:,} caught as bots, of {result.requests:,} POSTs"
    )
    result.extra = {"created": created, "held": held, "caught": caught, "rows_before": before, "rows_after": after}
    from signatures import models

    if hasattr(models, "OutgoingEmail"):
        queued = models.OutgoingEmail.objects.filter(signature__email_normalized__contains=f".{run}.").count()
        result.extra["queued_emails"] = queued
        result.note += f"; {queued:,} confirmation emails queued"
    not_signed = result.requests - (created - held)
    result.extra["not_signatures"] = not_signed > MAX_NOT_SIGNED_SHARE * max(result.requests, 1)
    log(
        f"{result.name}: {result.requests_per_second:,.0f} req/s, p50 {result.p50_ms:.1f} ms, "
        f"p99 {result.p99_ms:.1f} ms; {result.note}"
    )
    if result.extra["not_signatures"]:
        log(
            f"WARNING: {not_signed:,} of {result.requests:,} sign POSTs made no unheld signature: "
            "the sign figure does not measure signatures"
        )
    return result


def check_static(fixture: Fixture) -> str:
    """How whitenoise serves the stylesheet: a hashed name, compressed, cached for good."""
    with urllib.request.urlopen(f"{BASE_URL}/letters/{fixture.slug}/", timeout=30) as response:  # noqa: S310
        match = re.search(r'href="(/static/[^"]+\.css)"', response.read().decode())
    if not match:
        return "static files: no stylesheet link found"
    request = urllib.request.Request(BASE_URL + match.group(1), headers={"Accept-Encoding": "br, gzip"})  # noqa: S310
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        encoding = response.headers.get("Content-Encoding", "none")
        return (
            f"static files: {match.group(1)} served with Content-Encoding {encoding}, "
            f"Cache-Control {response.headers.get('Cache-Control')}"
        )


def measure_csv(server: Server, fixture: Fixture) -> Result:
    """Download every public row once from fresh workers; rows/s and the serving worker's peak memory."""
    pids = server.worker_pids()
    rss_before = {pid: memory_kib(pid, "VmRSS") for pid in pids}
    url = f"{BASE_URL}/letters/{fixture.slug}/signatories.csv"
    started = time.monotonic()
    lines = 0
    size = 0
    with urllib.request.urlopen(url, timeout=600) as response:  # noqa: S310
        while chunk := response.read(1 << 16):
            lines += chunk.count(b"\n")
            size += len(chunk)
    seconds = time.monotonic() - started
    rows = lines - 1
    peaks = {pid: memory_kib(pid, "VmHWM") for pid in pids}
    serving = max(pids, key=lambda pid: peaks[pid] - rss_before.get(pid, 0))
    peak_mb = peaks[serving] / 1024
    growth_mb = (peaks[serving] - rss_before.get(serving, 0)) / 1024
    result = Result(
        name="CSV export, all public rows",
        requests_per_second=rows / seconds,
        p50_ms=seconds * 1000,
        p99_ms=seconds * 1000,
        requests=1,
        errors=0 if rows == fixture.public_rows else 1,
        note=(
            f"{rows:,} rows, {size / 1e6:.0f} MB in {seconds:.1f} s = {rows / seconds:,.0f} rows/s; "
            f"worker peak RSS {peak_mb:.0f} MB (grew {growth_mb:.0f} MB)"
        ),
        extra={"rows": rows, "seconds": seconds, "peak_mb": peak_mb, "growth_mb": growth_mb},
    )
    log(result.note)
    return result


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def machine(loads: tuple[str, str]) -> str:
    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    memory = int(Path("/proc/meminfo").read_text().split()[1]) // (1024 * 1024)
    postgres = subprocess.run(
        ["psql", BENCH_ENV["DATABASE_URL"], "-Atc", "SHOW server_version"], capture_output=True, text=True, check=False
    ).stdout.strip()
    return (
        f"{os.cpu_count()} CPUs ({cpu}), {memory} GiB RAM, load average {loads[0]} at the start and "
        f"{loads[1]} at the end, {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}, PostgreSQL {postgres or '?'}, Redis cache; "
        f"gunicorn 2 sync workers; wrk -t2 -c10 on the same machine"
    )


def render(headings: tuple[str, ...], rows: list[tuple[str, ...]], *, markdown: bool) -> str:
    if markdown:
        lines = ["| " + " | ".join(headings) + " |", "|" + "---|" * len(headings)]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        return "\n".join(lines)
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(headings)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headings, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    return "\n".join(lines)


def table(results: list[Result], anchor: float, trivial: float, *, markdown: bool) -> str:
    rows = []
    for r in results:
        if r.name.startswith("CSV"):
            rate = f"{r.requests_per_second:,.0f} rows/s"
            p50 = p99 = f"{r.p50_ms / 1000:.1f} s total"
            ratio = to_trivial = "-"
        else:
            rate = f"{r.requests_per_second:,.0f}"
            p50, p99 = f"{r.p50_ms:.1f} ms", f"{r.p99_ms:.1f} ms"
            ratio = f"{r.requests_per_second / anchor:.2f}"
            to_trivial = f"{r.requests_per_second / trivial:.2f}" if trivial else "-"
        cpu = f"{r.extra['cpu_us']:,.0f} µs" if "cpu_us" in r.extra else "-"
        rows.append((r.name, rate, p50, p99, ratio, to_trivial, cpu, str(r.errors)))
    headings = ("scenario", "req/s", "p50", "p99", "x bare hello", "x our trivial view", "CPU/request", "errors")
    return render(headings, rows, markdown=markdown)


def stack_table(results: list[Result], anchor: float, *, markdown: bool) -> str:
    production = next((r for r in results if r.name.startswith("stack: production") and r.requests), None)
    rows = []
    for r in results:
        if not r.requests:
            rows.append((r.name.removeprefix("stack: "), "-", "-", "-", "-", r.note))
            continue
        saved = f"{production.extra['cpu_us'] - r.extra['cpu_us']:+,.0f} µs" if production else "-"
        rows.append(
            (
                r.name.removeprefix("stack: "),
                f"{r.requests_per_second:,.0f}",
                f"{r.requests_per_second / anchor:.2f}",
                f"{r.extra['cpu_us']:,.0f} µs",
                saved,
                str(r.errors),
            )
        )
    headings = ("trivial view, gunicorn and middleware", "req/s", "x bare hello", "CPU/request", "saves", "errors")
    return render(headings, rows, markdown=markdown)


def write_charts(results: list[Result], stack: list[Result], anchor: float, when: str, loads: tuple[str, str]) -> str:
    """bench/out/*.svg, and a copy in bench/charts/ for RESULTS.md to show."""
    subtitle = f"{when} UTC, 2 sync workers, wrk -t2 -c10, load average {loads[0]} → {loads[1]}"
    charts = {
        "throughput.svg": charts_module.bar_chart(
            "Requests/s as a ratio to a bare Django hello",
            [(r.name, r.requests_per_second / anchor) for r in results if not r.name.startswith("CSV")],
            subtitle=subtitle,
        ),
    }
    measured = [r for r in stack if r.requests]
    if measured:
        charts["stack.svg"] = charts_module.bar_chart(
            "Our trivial view: what gunicorn's config and each middleware cost",
            [(r.name.removeprefix("stack: "), r.requests_per_second / anchor) for r in measured],
            subtitle=subtitle,
        )
    CHARTS.mkdir(exist_ok=True)
    for name, svg in charts.items():
        (OUT / name).write_text(svg)
        (CHARTS / name).write_text(svg)
    return ", ".join(f"bench/out/{name}" for name in charts) + " (copied to bench/charts/)"


def report(
    results: list[Result],
    stack: list[Result],
    *,
    fixture: Fixture,
    drift: dict,
    recount: str,
    loads: tuple[str, str],
    in_process: tuple[list[tuple[str, float | None]], dict[str, float]] | None,
    markdown: bool,
) -> None:
    hellos = [r for r in results if r.name.startswith(BARE_HELLO)]
    anchor = sum(r.requests_per_second for r in hellos) / len(hellos)
    trivial = next((r.requests_per_second for r in results if r.name == TRIVIAL), 0)
    when = f"{datetime.now(UTC):%Y-%m-%d %H:%M}"
    print()
    print(f"Undersigned bench, {when} UTC — {machine(loads)}")
    print(f"Data: {fixture.signatures:,} signatures, {fixture.public_rows:,} listed.")
    print(f"Abuse limits: {fixture.allow_listed}; each sign POST used its own email domain.")
    print(
        f"Anchor: the bare Django hello, {anchor:,.0f} req/s, the mean of "
        + " and ".join(f"{r.requests_per_second:,.0f} ({r.name.split('(')[-1].rstrip(')')})" for r in hellos)
        + "."
    )
    print()
    print(table(results, anchor, trivial, markdown=False))
    print()
    for result in results:
        if result.note:
            print(f"- {result.name}: {result.note}")
    print(f"- {recount}")
    if stack:
        print()
        print(stack_table(stack, anchor, markdown=False))
    if in_process:
        print()
        print(in_process_table(in_process, markdown=False))
    print(f"- charts: {write_charts(results, stack, anchor, when, loads)}")
    summary = {
        "when": datetime.now(UTC).isoformat(),
        "machine": machine(loads),
        "load_average": {"start": loads[0], "end": loads[1]},
        "bare_hello_mean": anchor,
        "signatures": fixture.signatures,
        "listed": fixture.public_rows,
        "results": [r.__dict__ for r in results],
        "stack": [r.__dict__ for r in stack],
        "in_process": {"middleware": in_process[0], "access_line": in_process[1]} if in_process else None,
        "drift": {k: list(v) for k, v in drift.items()},
    }
    (OUT / "results.json").write_text(json.dumps(summary, indent=2))
    if markdown:
        print()
        print(table(results, anchor, trivial, markdown=True))
        if stack:
            print()
            print(stack_table(stack, anchor, markdown=True))
        if in_process:
            print()
            print(in_process_table(in_process, markdown=True))


ALWAYS = (BARE_HELLO, TRIVIAL)


def parse_options() -> tuple[argparse.Namespace, Callable[[str], bool]]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="Seconds of load per scenario (default 10).")
    parser.add_argument("--rows", type=int, default=1_000_000, help="Signatures in the bench letter.")
    parser.add_argument("--markdown", action="store_true", help="Also print the tables as Markdown.")
    parser.add_argument(
        "--only",
        default="",
        help="Comma-separated words: measure only the scenarios whose names contain one (the bare hello and our "
        "trivial view always run), e.g. --only 'letter page GET,sign' for a short run; the pages without the page "
        "cache run only when a word says 'no page cache', and 'stack' measures our gunicorn config and middleware.",
    )
    options = parser.parse_args()
    wanted = [word.strip() for word in options.only.split(",") if word.strip()]

    def chosen(name: str) -> bool:
        if not wanted or name.startswith(ALWAYS):
            return True
        if "(no page cache)" in name and not any("no page cache" in word for word in wanted):
            return False
        return any(word.replace("(no page cache)", "").strip() in name for word in wanted)

    return options, chosen


def measure_in_process() -> tuple[list[tuple[str, float | None]], dict[str, float]]:
    import stack_cost  # it needs Django set up

    log("stack: in one process, each middleware list and access line in turns (7 rounds)")
    middleware = stack_cost.middleware_costs()
    lines = stack_cost.access_line_costs()
    return middleware, lines


def in_process_table(in_process: tuple[list[tuple[str, float | None]], dict[str, float]], *, markdown: bool) -> str:
    middleware, lines = in_process
    full = dict(middleware)["all our middleware"]
    rows = [
        (name, "breaks the view", "-") if cost is None else (name, f"{cost:,.0f} µs", f"{full - cost:+,.0f} µs")
        for name, cost in middleware
    ]
    rows += [(f"access line: {name}", f"{cost:,.0f} µs", "-") for name, cost in lines.items()]
    headings = ("trivial view in one process (fastest of 7 rounds)", "CPU/request", "saves")
    return render(headings, rows, markdown=markdown)


def measure_ours(wrk: str, fixture: Fixture, duration: int, chosen: Callable[[str], bool]) -> tuple[list[Result], str]:
    """Our scenarios on our site as production serves it; the static-files check says how whitenoise served."""
    results: list[Result] = []
    server = Server()
    try:
        server.start()
        static = check_static(fixture)
        log(static)
        csv_result = measure_csv(server, fixture) if chosen("CSV export") else None
        results += measure(wrk, [s for s in scenarios(fixture) if chosen(s[0])], duration, server=server)
        if chosen("sign POST"):
            results.append(measure_sign(wrk, fixture, duration))
        if csv_result:
            results.append(csv_result)
        # The same pages drawn on every request: what the page cache saves, and
        # what keyset pagination costs by itself (deep page against first page).
        server.stop()
        server = Server(env={"SIGNATURES_PAGE_CACHE_SECONDS": "0"})
        server.start()
        uncached = [
            s
            for s in scenarios(fixture)
            if s[0].startswith(("letter page", "public list")) and chosen(s[0] + " (no page cache)")
        ]
        if uncached:
            results += measure(wrk, uncached, duration, server=server, suffix=" (no page cache)")
    finally:
        server.stop()
    return results, static


def main() -> None:
    options, chosen = parse_options()

    OUT.mkdir(parents=True, exist_ok=True)
    os.chdir(ROOT)
    loads_start = load_average()
    load = float(loads_start.split()[0])
    log(f"load average at the start: {loads_start}")
    if load > (os.cpu_count() or 1) / 2:
        log(f"WARNING: load average {load:.1f} before starting: other work shares these CPUs, figures will be low")
    wrk = ensure_wrk()
    ensure_database()
    log("migrating and collecting static files (DEBUG=0 serves hashed, compressed files)")
    manage("migrate", "--no-input", "-v0")
    manage("collectstatic", "--no-input", "-v0")
    log("migrating the bare project's own table (hello_hit)")
    bare_env = {**os.environ, **BENCH_ENV, **Server.bare().env}
    subprocess.run([PYTHON, "manage.py", "migrate", "hello", "--no-input", "-v0"], cwd=BARE, check=True, env=bare_env)
    setup_django()
    fixture = prepare(options.rows)
    log(f"{fixture.signatures:,} signatures, {fixture.public_rows:,} listed publicly")
    log(f"abuse limits: {fixture.allow_listed}; each sign POST uses its own email domain")

    started = time.monotonic()
    # The anchor before and after everything else: how far the machine drifted shows in the two.
    results = measure_bare(wrk, options.duration, suffix="before", insert=chosen("bare insert"))
    ours, static = measure_ours(wrk, fixture, options.duration, chosen)
    results += ours
    stack = measure_stack(wrk, options.duration, chosen)
    in_process = measure_in_process() if chosen("stack: in one process") else None
    results += measure_bare(wrk, options.duration, suffix="after", insert=False)
    log(f"gunicorn stopped ({time.monotonic() - started:.0f} s of measuring)")
    loads = (loads_start, load_average())

    from signatures import services
    from signatures.models import Letter

    drift = services.recount_letter(letter=Letter.objects.get(pk=fixture.letter_id))
    recount = "recount after the sign load: no drift" if not drift else f"recount found DRIFT: {drift}"
    log(recount)

    report(
        results,
        stack,
        fixture=fixture,
        drift=drift,
        recount=recount,
        loads=loads,
        in_process=in_process,
        markdown=options.markdown,
    )
    print(f"- {static}")
    if drift:
        sys.exit(1)
    if any(result.extra.get("not_signatures") for result in results):
        sys.exit("Too many sign POSTs made no signature (caught, held or failed): see the sign line above.")


if __name__ == "__main__":
    main()

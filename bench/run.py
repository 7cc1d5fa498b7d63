#!/usr/bin/env python
"""
`make bench`: how fast Undersigned is on this machine, against PostgreSQL and
gunicorn (2 sync workers), at a million signatures.

    .venv/bin/python bench/run.py [--duration 10] [--rows 1000000] [--markdown]

It loads a million signatures into `undersigned_bench` once (later runs reuse
them), starts gunicorn the way production does (DEBUG=0, Redis cache,
whitenoise), measures each scenario with wrk at its default concurrency
(2 threads, 10 connections) and prints requests/s, p50, p99 and the ratio to a
trivial Django view served the same way. It stops gunicorn however it ends.

The load generator's address (127.0.0.1) is allow-listed for the per-IP abuse
limits (an AllowedNetwork row), and every signature uses its own email domain,
so the sign POSTs measure the full path rather than the hold-for-review path.
The output says so.
"""

from __future__ import annotations

import argparse
import html.parser
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

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
LUA = Path(__file__).resolve().parent / "lua"
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
    "SIGNATURES_BENCH": "1",
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
    def __init__(self) -> None:
        self.process: subprocess.Popen | None = None
        self.log = OUT / "gunicorn.log"

    def start(self) -> None:
        command = [str(Path(PYTHON).parent / "gunicorn"), "letter_site.wsgi"]
        if (ROOT / "gunicorn.conf.py").exists():
            command += ["-c", "gunicorn.conf.py"]
        command += ["--workers", "2", "--bind", f"127.0.0.1:{PORT}", "--max-requests", "0"]
        command += ["--timeout", BENCH_ENV["GUNICORN_TIMEOUT"]]
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                command, cwd=ROOT, env={**os.environ, **BENCH_ENV}, stdout=out, stderr=out, start_new_session=True
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{BASE_URL}/bench/baseline/", timeout=2) as response:  # noqa: S310
                    if response.status == 200:
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


def check(path: str, *, headers: dict | None = None, expect: int = 200) -> None:
    """One request before measuring: a page that fails would be measured fast and wrong."""
    request = urllib.request.Request(BASE_URL + path, headers=headers or {})  # noqa: S310

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        status = opener.open(request, timeout=30).status
    except urllib.error.HTTPError as error:
        status = error.code
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


def sign_form_body(fixture: Fixture) -> tuple[str, str]:
    """The sign form's fields but the per-request ones (CSRF token, email, name), and its action."""
    with urllib.request.urlopen(f"{BASE_URL}/letters/{fixture.slug}/", timeout=30) as response:  # noqa: S310
        page = response.read().decode()
    action = f"/letters/{fixture.slug}/sign/"
    parser = _FormParser(action)
    parser.feed(page)
    fields = parser.fields
    if "email" not in fields:
        sys.exit("No sign form found on the letter page.")
    fields.update(title="Benchmark", affiliation="Load Studio", city="Paris", country="France")
    for name in ("csrfmiddlewaretoken", "email", "full_name"):
        fields.pop(name, None)
    return urllib.parse.urlencode(fields), action


# --- scenarios ------------------------------------------------------------------


def log_result(result: Result) -> None:
    log(
        f"{result.name}: {result.requests_per_second:,.0f} req/s, "
        f"p50 {result.p50_ms:.1f} ms, p99 {result.p99_ms:.1f} ms{'; ' + result.note if result.note else ''}"
    )


def scenarios(fixture: Fixture) -> list[tuple[str, str, tuple[str, ...]]]:
    slug = fixture.slug
    return [
        ("baseline (trivial view)", "/bench/baseline/", ()),
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
    wrk: str, chosen: list[tuple[str, str, tuple[str, ...]]], duration: int, *, suffix: str = ""
) -> list[Result]:
    get_script = OUT / "get.lua"
    get_script.write_text((LUA / "report.lua").read_text())
    results = []
    for name, path, headers in chosen:
        check(path, headers=dict(h.split(": ", 1) for h in headers))
        run_wrk(wrk, name, path, script=get_script, duration=2, headers=headers)  # warm-up
        result = run_wrk(wrk, name + suffix, path, script=get_script, duration=duration, headers=headers)
        log_result(result)
        results.append(result)
    return results


def measure_sign(wrk: str, fixture: Fixture, duration: int) -> Result:
    from signatures.models import Signature

    body, action = sign_form_body(fixture)
    # The form refuses one filled faster than a person could: wait as a person would.
    time.sleep(fixture.min_fill_seconds + 1)
    run = uuid.uuid4().hex[:8]
    names = "|".join(urllib.parse.quote(f"{f} {l}") for f in FIRST_NAMES for l in LAST_NAMES)  # noqa: E741
    env = {
        "BENCH_SIGN_BODY": body,
        "BENCH_SIGN_PATH": action,
        "BENCH_CSRF_COOKIE": fixture.csrf_cookie_name,
        "BENCH_RUN": run,
        "BENCH_NAMES": names,
    }
    script = OUT / "sign.lua"
    script.write_text((LUA / "sign.lua").read_text() + "\n" + (LUA / "report.lua").read_text())
    before = Signature.objects.filter(letter_id=fixture.letter_id).count()
    result = run_wrk(
        wrk, "sign POST (new signature + queued email)", action, script=script, duration=duration, env=env
    )
    created = Signature.objects.filter(letter_id=fixture.letter_id, email_normalized__contains=f".{run}.").count()
    held = Signature.objects.filter(
        letter_id=fixture.letter_id, email_normalized__contains=f".{run}.", hold_reason__gt=""
    ).count()
    after = Signature.objects.filter(letter_id=fixture.letter_id).count()
    result.note = f"{created:,} signatures created ({held} held) of {result.requests:,} POSTs"
    result.extra = {"created": created, "held": held, "rows_before": before, "rows_after": after}
    from signatures import models

    if hasattr(models, "OutgoingEmail"):
        queued = models.OutgoingEmail.objects.filter(signature__email_normalized__contains=f".{run}.").count()
        result.extra["queued_emails"] = queued
        result.note += f"; {queued:,} confirmation emails queued"
    log(
        f"{result.name}: {result.requests_per_second:,.0f} req/s, p50 {result.p50_ms:.1f} ms, "
        f"p99 {result.p99_ms:.1f} ms; {result.note}"
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


def machine() -> str:
    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    memory = int(Path("/proc/meminfo").read_text().split()[1]) // (1024 * 1024)
    postgres = subprocess.run(
        ["psql", BENCH_ENV["DATABASE_URL"], "-Atc", "SHOW server_version"], capture_output=True, text=True, check=False
    ).stdout.strip()
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    return (
        f"{os.cpu_count()} CPUs ({cpu}), {memory} GiB RAM, load average {load} at the end, "
        f"{platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}, PostgreSQL {postgres or '?'}, Redis cache; "
        f"gunicorn 2 sync workers; wrk -t2 -c10 on the same machine"
    )


def table(results: list[Result], baseline: float, *, markdown: bool) -> str:
    rows = []
    for r in results:
        if r.name.startswith("CSV"):
            rate = f"{r.requests_per_second:,.0f} rows/s"
            p50 = p99 = f"{r.p50_ms / 1000:.1f} s total"
            ratio = "-"
        else:
            rate = f"{r.requests_per_second:,.0f}"
            p50, p99 = f"{r.p50_ms:.1f} ms", f"{r.p99_ms:.1f} ms"
            ratio = f"{r.requests_per_second / baseline:.2f}"
        rows.append((r.name, rate, p50, p99, ratio, str(r.errors)))
    headings = ("scenario", "req/s", "p50", "p99", "x baseline", "errors")
    if markdown:
        lines = ["| " + " | ".join(headings) + " |", "|" + "---|" * len(headings)]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        return "\n".join(lines)
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(headings)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headings, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    return "\n".join(lines)


def report(results: list[Result], fixture: Fixture, drift: dict, recount: str, *, markdown: bool) -> None:
    baseline = results[0].requests_per_second
    print()
    print(f"Undersigned bench, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC — {machine()}")
    print(f"Data: {fixture.signatures:,} signatures, {fixture.public_rows:,} listed.")
    print(f"Abuse limits: {fixture.allow_listed}; each sign POST used its own email domain.")
    print()
    print(table(results, baseline, markdown=False))
    print()
    for result in results:
        if result.note:
            print(f"- {result.name}: {result.note}")
    print(f"- {recount}")
    summary = {
        "when": datetime.now(UTC).isoformat(),
        "machine": machine(),
        "signatures": fixture.signatures,
        "listed": fixture.public_rows,
        "results": [r.__dict__ for r in results],
        "drift": {k: list(v) for k, v in drift.items()},
    }
    (OUT / "results.json").write_text(json.dumps(summary, indent=2))
    if markdown:
        print()
        print(table(results, baseline, markdown=True))


def parse_options() -> tuple[argparse.Namespace, Callable[[str], bool]]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="Seconds of load per scenario (default 10).")
    parser.add_argument("--rows", type=int, default=1_000_000, help="Signatures in the bench letter.")
    parser.add_argument("--markdown", action="store_true", help="Also print the table as Markdown.")
    parser.add_argument(
        "--only",
        default="",
        help="Comma-separated words: measure only the scenarios whose names contain one (the baseline always "
        "runs), e.g. --only 'letter page GET,sign' for a short run; the pages without the page cache run only "
        "when a word says 'no page cache'.",
    )
    options = parser.parse_args()
    wanted = [word.strip() for word in options.only.split(",") if word.strip()]

    def chosen(name: str) -> bool:
        if not wanted or name.startswith("baseline"):
            return True
        if "(no page cache)" in name and not any("no page cache" in word for word in wanted):
            return False
        return any(word.replace("(no page cache)", "").strip() in name for word in wanted)

    return options, chosen


def main() -> None:
    options, chosen = parse_options()

    OUT.mkdir(parents=True, exist_ok=True)
    os.chdir(ROOT)
    load = float(Path("/proc/loadavg").read_text().split()[0])
    if load > (os.cpu_count() or 1) / 2:
        log(f"WARNING: load average {load:.1f} before starting: other work shares these CPUs, figures will be low")
    wrk = ensure_wrk()
    ensure_database()
    log("migrating and collecting static files (DEBUG=0 serves hashed, compressed files)")
    manage("migrate", "--no-input", "-v0")
    manage("collectstatic", "--no-input", "-v0")
    setup_django()
    fixture = prepare(options.rows)
    log(f"{fixture.signatures:,} signatures, {fixture.public_rows:,} listed publicly")
    log(f"abuse limits: {fixture.allow_listed}; each sign POST uses its own email domain")

    server = Server()
    started = time.monotonic()
    try:
        server.start()
        static = check_static(fixture)
        log(static)
        csv_result = measure_csv(server, fixture) if chosen("CSV export") else None
        results = measure(wrk, [s for s in scenarios(fixture) if chosen(s[0])], options.duration)
        if chosen("sign POST"):
            results.append(measure_sign(wrk, fixture, options.duration))
        if csv_result:
            results.append(csv_result)
        # The same pages drawn on every request: what the page cache saves, and
        # what keyset pagination costs by itself (deep page against first page).
        server.stop()
        BENCH_ENV["SIGNATURES_PAGE_CACHE_SECONDS"] = "0"
        server.start()
        uncached = [
            s
            for s in scenarios(fixture)
            if s[0].startswith(("letter page", "public list")) and chosen(s[0] + " (no page cache)")
        ]
        if uncached:
            results += measure(wrk, uncached, options.duration, suffix=" (no page cache)")
    finally:
        server.stop()
        log(f"gunicorn stopped ({time.monotonic() - started:.0f} s of measuring)")

    from signatures import services
    from signatures.models import Letter

    drift = services.recount_letter(letter=Letter.objects.get(pk=fixture.letter_id))
    recount = "recount after the sign load: no drift" if not drift else f"recount found DRIFT: {drift}"
    log(recount)

    report(results, fixture, drift, recount, markdown=options.markdown)
    print(f"- {static}")
    if drift:
        sys.exit(1)


if __name__ == "__main__":
    main()

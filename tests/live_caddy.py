"""
A real Caddy in front of a real gunicorn, both from the committed files:
deploy/Caddyfile with only its site address and upstream pointed at free
loopback ports, and gunicorn.conf.py (tests/live_gunicorn.py). Always stopped:
use them as context managers.
"""

from __future__ import annotations

import html.parser
import http.client
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.parse
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from tests.live_gunicorn import ROOT, gunicorn, production_env, run_manage
from tests.ports import free_port

CADDY = shutil.which("caddy")
NO_CADDY = "needs Debian's caddy package (apt-get install caddy)"

SITE_ADDRESS = "letters.example.org {"
UPSTREAM = "reverse_proxy 127.0.0.1:8000 {"
GLOBAL_OPTIONS = "{\n"

ORGANIZER = "organizer"
ORGANIZER_PASSWORD = "a-long-proxy-test-password"


def render_caddyfile(*, port: int, upstream_port: int) -> str:
    """deploy/Caddyfile, serving plain HTTP on `port` and proxying to `upstream_port`; every directive as committed."""
    text = (ROOT / "deploy" / "Caddyfile").read_text()
    for fixed in (SITE_ADDRESS, UPSTREAM):
        assert text.count(fixed) == 1, f"deploy/Caddyfile no longer has exactly one {fixed!r}"
    text = text.replace(SITE_ADDRESS, f"http://127.0.0.1:{port} {{")
    text = text.replace(UPSTREAM, f"reverse_proxy 127.0.0.1:{upstream_port} {{")
    # Caddy's admin API listens on one fixed port by default: other Caddys on
    # this machine must not collide with ours. Not a site directive.
    lines = text.splitlines(keepends=True)
    opening = lines.index(GLOBAL_OPTIONS)
    return "".join([*lines[: opening + 1], "\tadmin off\n", *lines[opening + 1 :]])


@contextmanager
def caddy(*, port: int, upstream_port: int, ready_within: float = 15) -> Iterator[int]:
    """Run Caddy with the rendered Caddyfile until the block ends; yield its port."""
    with tempfile.TemporaryDirectory(prefix="undersigned-caddy-") as tmp:
        home = Path(tmp)
        config = home / "Caddyfile"
        config.write_text(render_caddyfile(port=port, upstream_port=upstream_port))
        log_path = home / "caddy.log"
        # Caddy keeps its state under HOME and the XDG folders: a temporary one, ours alone.
        env = {"PATH": "/usr/bin:/bin", "HOME": tmp, "XDG_DATA_HOME": tmp, "XDG_CONFIG_HOME": tmp}
        with log_path.open("w") as log:
            process = subprocess.Popen(  # noqa: S603 (Debian's caddy, fixed arguments)
                [CADDY, "run", "--adapter", "caddyfile", "--config", str(config)],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            try:
                deadline = time.monotonic() + ready_within
                while True:
                    if process.poll() is not None:
                        raise AssertionError(f"caddy exited with {process.returncode}:\n{log_path.read_text()}")
                    try:
                        socket.create_connection(("127.0.0.1", port), timeout=1).close()
                        break
                    except OSError:
                        pass
                    if time.monotonic() > deadline:
                        raise AssertionError(f"caddy did not listen within {ready_within}s:\n{log_path.read_text()}")
                    time.sleep(0.1)
                yield port
            finally:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=5)


def request(
    port: int,
    method: str,
    path: str,
    *,
    source: str = "127.0.0.1",
    body: str | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: float = 10,
) -> tuple[int, http.client.HTTPMessage, bytes]:
    """(status, headers, body) of one request from the loopback address `source`; a fresh connection each time."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout, source_address=(source, 0))
    try:
        connection.request(method, path, body=body, headers={"Host": f"127.0.0.1:{port}", **(headers or {})})
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


@contextmanager
def proxied_site(tmp: Path, **env: str) -> Iterator[int]:
    """
    The documented deployment on loopback: a migrated SQLite database in `tmp`
    with the demo letter, gunicorn from gunicorn.conf.py, Caddy in front of it.
    Yields Caddy's port.
    """
    site_env = production_env(
        DATABASE_URL=f"sqlite:///{tmp / 'db.sqlite3'}",
        BEHIND_TLS_PROXY="1",
        # Caddy serves plain HTTP here (no certificate on loopback), and says so
        # in X-Forwarded-Proto: the HTTPS redirect would send every test away.
        SECURE_SSL_REDIRECT="0",
        **env,
    )
    run_manage("migrate", "--no-input", env=site_env)
    run_manage("create_demo_letter", env=site_env)
    run_manage(
        "createsuperuser",
        "--no-input",
        env={
            **site_env,
            "DJANGO_SUPERUSER_USERNAME": ORGANIZER,
            "DJANGO_SUPERUSER_EMAIL": "organizer@example.org",
            "DJANGO_SUPERUSER_PASSWORD": ORGANIZER_PASSWORD,
        },
    )
    with (
        gunicorn(site_env, port=free_port(), log_path=tmp / "gunicorn.log") as upstream_port,
        caddy(port=free_port(), upstream_port=upstream_port) as port,
    ):
        yield port


def letter_path(port: int) -> str:
    status, headers, _body = request(port, "GET", "/")
    assert status == 302, "the home page leads to the only open letter"
    return urllib.parse.urlsplit(headers["Location"]).path


class SignForm(html.parser.HTMLParser):
    """The sign form's action and fields, as a browser would send them untouched (the honeypot stays empty)."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.action = ""
        self.fields: dict[str, str] = {}
        self.inside = False
        self.select: str | None = None
        self.feed(page)
        assert "email" in self.fields, "the page has a sign form"

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {key: value or "" for key, value in attrs}
        if tag == "form" and attributes.get("action", "").endswith("/sign/"):
            self.inside = True
            self.action = attributes["action"]
        if not self.inside:
            return
        name = attributes.get("name")
        if tag == "input" and name:
            kind = attributes.get("type", "text")
            if kind == "checkbox":
                self.fields[name] = attributes.get("value") or "on"
            elif kind not in ("submit", "button"):
                self.fields[name] = attributes.get("value", "")
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


class Browser:
    """One visitor at one address: keeps its cookies, as a browser does."""

    def __init__(self, port: int, *, source: str) -> None:
        self.port = port
        self.source = source
        self.cookies: dict[str, str] = {}

    def send(self, method: str, path: str, *, body: str | None = None, headers: Mapping[str, str] | None = None):
        cookie = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        status, response_headers, content = request(
            self.port,
            method,
            path,
            source=self.source,
            body=body,
            headers={**({"Cookie": cookie} if cookie else {}), **(headers or {})},
        )
        for set_cookie in response_headers.get_all("Set-Cookie") or []:
            name, _, rest = set_cookie.partition("=")
            self.cookies[name.strip()] = rest.partition(";")[0]
        return status, response_headers, content

    def log_in(self, username: str, password: str) -> int:
        """Submit the admin login form; 302 when logged in."""
        status, _headers, page = self.send("GET", "/admin/login/")
        assert status == 200, status
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.decode())
        assert token, "the login page has a CSRF token"
        body = urllib.parse.urlencode(
            {"csrfmiddlewaretoken": token.group(1), "username": username, "password": password, "next": "/admin/"}
        )
        status, _headers, _content = self.send(
            "POST", "/admin/login/", body=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
        )
        return status

    def open_sign_form(self, letter_path: str) -> SignForm:
        status, _headers, page = self.send("GET", letter_path)
        assert status == 200, status
        return SignForm(page.decode())

    def submit(self, form: SignForm, *, headers: Mapping[str, str] | None = None, **fields: str) -> int:
        body = urllib.parse.urlencode({**form.fields, **fields})
        status, _headers, _content = self.send(
            "POST",
            form.action,
            body=body,
            headers={"Content-Type": "application/x-www-form-urlencoded", **(headers or {})},
        )
        return status

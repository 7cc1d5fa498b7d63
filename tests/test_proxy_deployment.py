"""
Behind the documented proxy, every visitor keeps their own address: Caddy
(deploy/Caddyfile) replaces any X-Forwarded-For a client sends with the address
it saw, and Django reads it there because production.env.example says
SIGNATURES_TRUSTED_PROXY_COUNT=1. Without both, everyone would share the
proxy's address and be held, throttled and locked out together.
"""

from __future__ import annotations

import re
import sqlite3
import tempfile
import time
from pathlib import Path
from unittest import skipUnless

import yaml
from django.test import SimpleTestCase

from tests.live_caddy import CADDY, NO_CADDY, ORGANIZER, ORGANIZER_PASSWORD, Browser, letter_path, proxied_site
from tests.live_gunicorn import ROOT

VISITORS = [f"127.0.0.{host}" for host in range(2, 62)]
MIN_FILL_SECONDS = 1


def production_env_example() -> dict[str, str]:
    text = (ROOT / "deploy" / "production.env.example").read_text()
    return dict(re.findall(r"^([A-Z_0-9]+)=(.*)$", text, flags=re.MULTILINE))


@skipUnless(CADDY, NO_CADDY)
class ProxyDeploymentTests(SimpleTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._tmp = tempfile.TemporaryDirectory()
        cls.database = Path(cls._tmp.name) / "db.sqlite3"
        cls._site = proxied_site(
            Path(cls._tmp.name),
            SIGNATURES_TRUSTED_PROXY_COUNT=production_env_example()["SIGNATURES_TRUSTED_PROXY_COUNT"],
            SIGNATURES_MIN_FILL_SECONDS=str(MIN_FILL_SECONDS),
        )
        cls.port = cls._site.__enter__()
        cls.letter_path = letter_path(cls.port)

    @classmethod
    def tearDownClass(cls):
        cls._site.__exit__(None, None, None)
        cls._tmp.cleanup()
        super().tearDownClass()

    def hold_reasons(self, email_like: str) -> list[str]:
        with sqlite3.connect(self.database) as db:
            rows = db.execute(
                "SELECT hold_reason FROM signatures_signature WHERE email LIKE ? ORDER BY id", (email_like,)
            )
            return [reason for (reason,) in rows]

    def test_visitors_from_many_addresses_are_not_held_as_one(self):
        visitors = [(Browser(self.port, source=address), index) for index, address in enumerate(VISITORS)]
        # As people do: open the page, fill the form in, send it.
        forms = [(browser, browser.open_sign_form(self.letter_path), index) for browser, index in visitors]
        time.sleep(MIN_FILL_SECONDS + 0.5)
        for browser, form, index in forms:
            status = browser.submit(
                form, full_name=f"Visitor Number {index}", email=f"visitor{index}@studio{index}.example.org"
            )
            assert status == 302, (browser.source, status)
        reasons = self.hold_reasons("visitor%")
        assert len(reasons) == len(VISITORS)
        assert set(reasons) == {""}, "nobody is held for the proxy's address"

    def test_a_forged_forwarded_for_header_does_not_dodge_the_per_address_limit(self):
        browser = Browser(self.port, source="127.0.0.99")
        # A form of its own for each attempt: a stamp is good for one submission.
        forms = [browser.open_sign_form(self.letter_path) for _ in range(7)]
        time.sleep(MIN_FILL_SECONDS + 0.5)
        for attempt, form in enumerate(forms):
            status = browser.submit(
                form,
                headers={"X-Forwarded-For": f"198.51.100.{attempt + 1}"},
                full_name=f"Forger Number {attempt}",
                email=f"forger{attempt}@forge{attempt}.example.org",
            )
            assert status == 302
        # The burst limit is 5 a minute from one address: the sixth and seventh are held.
        assert self.hold_reasons("forger%") == ["", "", "", "", "", "ip_limit", "ip_limit"]

    def test_wrong_passwords_from_one_address_do_not_lock_the_organizer_out_elsewhere(self):
        guesser = Browser(self.port, source="127.0.0.150")
        statuses = [guesser.log_in(ORGANIZER, f"wrong-guess-{attempt}") for attempt in range(6)]
        assert statuses[-1] == 429, statuses  # locked out, from that address
        assert Browser(self.port, source="127.0.0.151").log_in(ORGANIZER, ORGANIZER_PASSWORD) == 302


class ProxyConfigurationTests(SimpleTestCase):
    def test_the_production_settings_trust_exactly_the_one_proxy_we_run(self):
        assert production_env_example()["SIGNATURES_TRUSTED_PROXY_COUNT"] == "1"

    def test_compose_gives_the_web_service_the_proxy_count_even_from_an_older_env_file(self):
        compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
        environment = compose["services"]["web"]["environment"]
        assert environment["SIGNATURES_TRUSTED_PROXY_COUNT"] == "${SIGNATURES_TRUSTED_PROXY_COUNT:-1}"

    def test_the_caddyfile_trusts_no_proxy_in_front_of_it(self):
        # With trusted_proxies, Caddy would pass a client's X-Forwarded-For on.
        caddyfile = (ROOT / "deploy" / "Caddyfile").read_text()
        directives = [line.strip() for line in caddyfile.splitlines() if not line.strip().startswith("#")]
        assert not [line for line in directives if line.startswith("trusted_proxies")]

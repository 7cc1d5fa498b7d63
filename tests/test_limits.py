"""
Abuse limits shared by every worker: over a sign limit a signature is stored
but held for review, and the signer sees the normal response; only endpoints
that reveal nothing answer 429.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from unittest import mock
from urllib.parse import quote

import pytest
import time_machine
from django.db import connection
from django.test import Client, RequestFactory, TestCase, TransactionTestCase, override_settings
from django.urls import reverse
from django.utils import timezone

from signatures import services
from signatures.abuse import limits
from signatures.abuse.client import client_ip
from signatures.models import AllowedDomain, AllowedNetwork, LimitWindow, OutgoingEmail, Signature, SignatureCounter
from signatures.tokens import Purpose, make_token
from tests.factories import make_letter, make_signature, sign_data

needs_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite has one writer at a time, so separate processes cannot race; run on PostgreSQL.",
)

ONLY_IP_BURST = {
    "SIGNATURES_LIMIT_SIGN_IP_BURST": "3/60",
    "SIGNATURES_LIMIT_SIGN_IP_SUSTAINED": "0",
    "SIGNATURES_LIMIT_SIGN_DOMAIN": "0",
}
ONLY_IP_SUSTAINED = {
    "SIGNATURES_LIMIT_SIGN_IP_BURST": "0",
    "SIGNATURES_LIMIT_SIGN_IP_SUSTAINED": "4/3600",
    "SIGNATURES_LIMIT_SIGN_DOMAIN": "0",
}
ONLY_DOMAIN = {
    "SIGNATURES_LIMIT_SIGN_IP_BURST": "0",
    "SIGNATURES_LIMIT_SIGN_IP_SUSTAINED": "0",
    "SIGNATURES_LIMIT_SIGN_DOMAIN": "3/3600",
}


class FrozenAtWindowStart:
    """
    Windows are fixed (aligned to multiples of their length), so each test
    starts just after the hour turns, with the clock stopped: no window ends
    in the middle of a test unless the test moves the clock itself.
    """

    def setUp(self):
        super().setUp()
        start = int(time.time() // 3600 + 1) * 3600 + 5
        traveller = time_machine.travel(start, tick=False)
        self.clock = traveller.start()
        self.addCleanup(traveller.stop)


class SignAs(FrozenAtWindowStart):
    """Sign the way a browser does, from a given IP address, in one of several sessions."""

    def sign(self, email, *, ip="203.0.113.7", client=None, letter=None, **headers):
        letter = letter or self.letter
        client = client or self.client
        url = reverse("signatures:sign", kwargs={"slug": letter.slug})
        with self.captureOnCommitCallbacks(execute=True):
            response = client.post(url, sign_data(letter, email=email), REMOTE_ADDR=ip, **headers)
        assert response.status_code == 302, response.content[:500]
        return Signature.objects.get(letter=letter, email_normalized=email)

    def hold_reasons(self, count, *, prefix="s", domain="example.org", ips=None, clients=None):
        reasons = []
        for n in range(count):
            client = clients[n % len(clients)] if clients else None
            ip = ips[n % len(ips)] if ips else "203.0.113.7"
            reasons.append(self.sign(f"{prefix}{n}@{domain}", ip=ip, client=client).hold_reason)
        return reasons


class RateParsingTests(TestCase):
    def test_a_rate_is_count_per_seconds_and_zero_turns_it_off(self):
        assert limits.Rate.parse("5/60") == limits.Rate(5, 60)
        assert limits.Rate.parse("0") is None
        assert limits.Rate.parse("") is None

    def test_a_window_counts_every_event_and_a_new_window_starts_afresh(self):
        rate = limits.Rate(5, 60)
        now = 6_000_000.0
        counts = [limits.hit("test", "203.0.113.9", rate, now=now).count for _ in range(3)]
        assert counts == [1, 2, 3]
        assert limits.peek("test", "203.0.113.9", rate, now=now) == 3
        assert limits.hit("test", "203.0.113.9", rate, now=now + 60).count == 1

    def test_counts_are_kept_under_a_hash_never_the_raw_subject(self):
        limits.hit("test", "203.0.113.7", limits.Rate(5, 60))
        keys = list(LimitWindow.objects.values_list("key", flat=True))
        assert keys
        assert not any("203.0.113.7" in key for key in keys)


class PerIpLimitTests(SignAs, TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.letter = make_letter(requires_moderation=False)

    @override_settings(**ONLY_IP_BURST)
    def test_the_burst_limit_holds_from_its_threshold_across_sessions_and_resets_after_its_window(self):
        sessions = [Client(), Client()]
        assert self.hold_reasons(4, clients=sessions) == ["", "", "", "ip_limit"]
        self.clock.shift(61)
        assert self.hold_reasons(1, prefix="later", clients=sessions) == [""]

    @override_settings(**ONLY_IP_SUSTAINED)
    def test_the_sustained_limit_holds_from_its_threshold_and_resets_after_its_window(self):
        assert self.hold_reasons(5, clients=[Client(), Client()]) == ["", "", "", "", "ip_limit"]
        self.clock.shift(1800)
        assert self.hold_reasons(1, prefix="half") == ["ip_limit"]
        self.clock.shift(1800)
        assert self.hold_reasons(1, prefix="next") == [""]

    @override_settings(**ONLY_IP_BURST)
    def test_limits_are_per_letter(self):
        other = make_letter()
        assert self.hold_reasons(3) == ["", "", ""]
        assert self.sign("elsewhere@example.org", letter=other).hold_reason == ""

    @override_settings(**ONLY_IP_BURST)
    def test_a_forged_forwarded_for_header_does_not_dodge_the_limit(self):
        reasons = [
            self.sign(f"f{n}@example.org", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}").hold_reason for n in range(4)
        ]
        assert reasons == ["", "", "", "ip_limit"]

    @override_settings(SIGNATURES_TRUSTED_PROXY_COUNT=1, **ONLY_IP_BURST)
    def test_behind_a_trusted_proxy_the_client_cannot_prepend_addresses_to_dodge_it(self):
        reasons = [
            self.sign(
                f"p{n}@example.org", ip="10.0.0.1", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}, 203.0.113.9"
            ).hold_reason
            for n in range(4)
        ]
        assert reasons == ["", "", "", "ip_limit"]
        # Another real client behind the same proxy is counted apart.
        assert self.sign("other@example.org", ip="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.10").hold_reason == ""

    @override_settings(**ONLY_IP_BURST)
    def test_an_ipv6_client_rotating_through_its_64_is_counted_once(self):
        rotating = [f"2001:db8:77:1:{n:x}::{n + 1:x}" for n in range(4)]
        assert self.hold_reasons(4, ips=rotating) == ["", "", "", "ip_limit"]
        # Its neighbour in the next /64 is someone else; an IPv4 client is counted per address.
        assert self.sign("neighbour@example.org", ip="2001:db8:77:2::1").hold_reason == ""
        assert self.hold_reasons(2, prefix="v4-", ips=["192.0.2.1", "192.0.2.2"]) == ["", ""]

    def test_a_per_ip_limit_counts_ipv4_addresses_and_ipv6_64s(self):
        assert limits.ip_subject("2001:db8:1:2:3:4:5:6") == "2001:db8:1:2::/64"
        assert limits.ip_subject("2001:DB8:1:2::9") == "2001:db8:1:2::/64"
        assert limits.ip_subject("::ffff:192.0.2.7") == "192.0.2.7"
        assert limits.ip_subject("192.0.2.7") == "192.0.2.7"

    @override_settings(**ONLY_IP_BURST)
    def test_an_allow_listed_network_is_never_held(self):
        AllowedNetwork.objects.create(cidr="203.0.113.0/24", note="The studio")
        assert self.hold_reasons(6, ips=["203.0.113.7", "203.0.113.8"]) == [""] * 6

    @override_settings(**ONLY_IP_BURST)
    def test_a_held_signature_is_stored_not_counted_not_listed_and_waits_for_a_moderator(self):
        self.hold_reasons(3)
        held = self.sign("fourth@example.org")
        assert held.hold_reason == Signature.HoldReason.IP_LIMIT
        with self.captureOnCommitCallbacks(execute=True):
            self.client.post(reverse("signatures:confirm", kwargs={"token": make_token(held, Purpose.CONFIRM)}))
        held.refresh_from_db()
        # The letter needs no moderation, yet the held signature is not approved.
        assert held.state == Signature.State.CONFIRMED
        assert held in Signature.objects.awaiting_moderation()
        assert SignatureCounter.value_for(self.letter, "held") == 1
        assert SignatureCounter.value_for(self.letter, SignatureCounter.PUBLIC) == 0
        assert held.full_name not in self.client.get(self.letter.get_absolute_url()).content.decode()

    @override_settings(**ONLY_IP_BURST)
    def test_fifty_colleagues_on_one_network_are_all_stored_some_held_none_refused(self):
        reasons = self.hold_reasons(50, domain="studio.example")
        assert Signature.objects.filter(letter=self.letter).count() == 50
        assert reasons.count("") == 3
        assert set(reasons[3:]) == {"ip_limit"}


class PerDomainLimitTests(SignAs, TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.letter = make_letter()

    @override_settings(**ONLY_DOMAIN)
    def test_the_domain_limit_holds_from_its_threshold_from_any_ip_and_resets_after_its_window(self):
        ips = ["198.51.100.1", "198.51.100.2", "198.51.100.3", "198.51.100.4"]
        reasons = self.hold_reasons(4, domain="bots.example", ips=ips, clients=[Client(), Client()])
        assert reasons == ["", "", "", "domain_limit"]
        self.clock.shift(3601)
        assert self.hold_reasons(1, prefix="later", domain="bots.example") == [""]

    @override_settings(**ONLY_DOMAIN)
    def test_big_shared_mail_providers_are_not_limited_per_domain(self):
        assert self.hold_reasons(5, domain="gmail.com", ips=[f"198.51.100.{n}" for n in range(5)]) == [""] * 5

    @override_settings(**ONLY_DOMAIN)
    def test_an_allow_listed_domain_and_its_subdomains_are_never_held(self):
        AllowedDomain.objects.create(domain="studio.example")
        assert self.hold_reasons(5, domain="mail.studio.example") == [""] * 5


@override_settings(SIGNATURES_LIMIT_EMAILS_PER_ADDRESS="3/86400", SIGNATURES_LIMIT_SIGN_IP_BURST="0")
class EmailCapTests(SignAs, TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.letter = make_letter()

    def emails_to(self, address):
        return OutgoingEmail.objects.filter(to_email=address).count()

    def test_one_address_submitted_from_many_ips_gets_at_most_the_cap(self):
        for n in range(10):
            self.sign("stranger@example.org", ip=f"198.51.100.{n}", client=Client())
        assert self.emails_to("stranger@example.org") == 3
        assert Signature.objects.filter(email_normalized="stranger@example.org").count() == 1

    def test_the_cap_covers_already_signed_notes_too(self):
        make_signature(self.letter, Signature.State.APPROVED, email="signed@example.org")
        for n in range(6):
            self.sign("signed@example.org", ip=f"198.51.100.{n}")
        assert self.emails_to("signed@example.org") == 3

    def test_the_cap_resets_after_its_window_and_is_per_letter(self):
        for _ in range(4):
            self.sign("again@example.org")
        assert self.emails_to("again@example.org") == 3
        self.sign("again@example.org", letter=make_letter())
        assert self.emails_to("again@example.org") == 4
        self.clock.shift(86401)
        self.sign("again@example.org")
        assert self.emails_to("again@example.org") == 5

    def test_caught_submissions_use_none_of_the_cap(self):
        url = reverse("signatures:sign", kwargs={"slug": self.letter.slug})
        for _ in range(5):
            # The honeypot filled: a bot, dropped with the normal answer.
            self.client.post(url, sign_data(self.letter, email="victim@example.org", website="x"))
        assert not Signature.objects.filter(email_normalized="victim@example.org").exists()
        for _ in range(3):
            self.sign("victim@example.org")
        assert self.emails_to("victim@example.org") == 3

    def test_the_cap_is_counted_with_the_other_limits_of_the_attempt(self):
        url = reverse("signatures:sign", kwargs={"slug": self.letter.slug})
        with mock.patch.object(limits.windows, "count", wraps=limits.windows.count) as count:
            # The email is sent after the request (on commit, by the worker): not counted here.
            self.client.post(url, sign_data(self.letter, email="once@example.org"), REMOTE_ADDR="203.0.113.7")
        assert OutgoingEmail.objects.filter(to_email="once@example.org").count() == 1
        # One round trip for the attempt's windows, one for the mail budgets of its email.
        assert count.call_count == 2, count.call_args_list
        assert any(key.startswith("emails-to-address:") for key in count.call_args_list[0].args[0])


class TooManyRequestsTests(FrozenAtWindowStart, TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.letter = make_letter()
        cls.signature = make_signature(cls.letter)

    @override_settings(SIGNATURES_LIMIT_TOKEN_POSTS_PER_IP="3/600")
    def test_repeated_confirm_posts_get_429_with_retry_after(self):
        url = reverse("signatures:confirm", kwargs={"token": "1-abc-" + "0" * 64})
        statuses = [self.client.post(url, REMOTE_ADDR="198.51.100.1").status_code for _ in range(3)]
        assert statuses == [400, 400, 400]
        response = self.client.post(url, REMOTE_ADDR="198.51.100.1")
        assert response.status_code == 429
        assert 0 < int(response["Retry-After"]) <= 600
        # Another client is not affected, and reading the page (GET) is never limited.
        assert self.client.post(url, REMOTE_ADDR="198.51.100.2").status_code == 400
        assert self.client.get(url, REMOTE_ADDR="198.51.100.1").status_code == 400

    @override_settings(SIGNATURES_LIMIT_LIST_PAGES_PER_IP="5/60")
    def test_scraping_the_list_gets_429_with_retry_after_then_recovers(self):
        url = reverse("signatures:signatories", kwargs={"slug": self.letter.slug})
        assert {self.client.get(url, REMOTE_ADDR="198.51.100.1").status_code for _ in range(5)} == {200}
        response = self.client.get(url, REMOTE_ADDR="198.51.100.1")
        assert response.status_code == 429
        assert "Retry-After" in response
        assert "public" not in response.get("Cache-Control", "")
        self.clock.shift(61)
        assert self.client.get(url, REMOTE_ADDR="198.51.100.1").status_code == 200

    @override_settings(SIGNATURES_LIMIT_LIST_PAGES_PER_IP="1/60", SIGNATURES_LIMIT_TOKEN_POSTS_PER_IP="1/60")
    def test_health_probes_are_never_limited(self):
        for path in ("/healthz", "/readyz"):
            statuses = {self.client.get(path, REMOTE_ADDR="198.51.100.1").status_code for _ in range(5)}
            assert 429 not in statuses


class ClientIpTests(TestCase):
    def ip(self, remote="192.0.2.1", forwarded=None):
        headers = {"REMOTE_ADDR": remote}
        if forwarded is not None:
            headers["HTTP_X_FORWARDED_FOR"] = forwarded
        return client_ip(RequestFactory().get("/", **headers))

    def test_without_trusted_proxies_the_socket_address_is_the_client(self):
        assert self.ip(forwarded="198.51.100.1") == "192.0.2.1"

    @override_settings(SIGNATURES_TRUSTED_PROXY_COUNT=2)
    def test_with_trusted_proxies_the_header_is_read_from_the_right(self):
        assert self.ip(forwarded="6.6.6.6, 198.51.100.1, 10.0.0.2") == "198.51.100.1"
        # Fewer hops than trusted proxies: the request bypassed them, use the socket.
        assert self.ip(forwarded="198.51.100.1") == "192.0.2.1"
        assert self.ip(forwarded="garbage, 10.0.0.2") == "192.0.2.1"


@needs_postgres
@override_settings(SIGNATURES_LIMIT_SIGN_IP_BURST="5/60")
class AcrossProcessesTests(TransactionTestCase):
    """Counts kept in the shared cache agree between separate worker processes."""

    SCRIPT = textwrap.dedent(
        """
        import os, sys, time
        os.environ["DJANGO_SETTINGS_MODULE"] = "letter_site.settings"
        import django
        from django.conf import settings
        django.setup()
        from signatures.abuse import limits
        hits = [limits.hit("race", "203.0.113.7", limits.Rate(5, 600), now=float(sys.argv[2])) for _ in range(10)]
        print(" ".join(str(h.count) for h in hits))
        """
    )

    def test_two_processes_counting_one_key_agree_on_every_count(self):
        db = connection.settings_dict
        password = f":{quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else ""
        url = f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
        now = str(timezone.now().timestamp())
        processes = [
            subprocess.Popen(  # noqa: S603
                [sys.executable, "-c", self.SCRIPT, "x", now],
                env={"DATABASE_URL": url, "CACHE_URL": "dbcache://undersigned_cache", "PATH": "/usr/bin:/bin"},
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(3)
        ]
        counts = []
        for process in processes:
            out, err = process.communicate(timeout=60)
            assert process.returncode == 0, err
            counts.extend(int(n) for n in out.split())
        # Thirty increments from three processes: every count from 1 to 30 seen exactly once.
        assert sorted(counts) == list(range(1, 31))
        assert limits.peek("race", "203.0.113.7", limits.Rate(5, 600), now=float(now)) == 30

    def test_a_limit_trips_at_its_threshold_when_workers_share_the_load(self):
        letter = make_letter()
        for n in range(6):
            outcome = services.sign_letter(
                letter=letter,
                full_name=f"Worker {n}",
                email=f"w{n}@example.org",
                profession=None,
                ip_address="1.2.3.4",
            )
            assert outcome == services.SignOutcome.CREATED
        reasons = list(Signature.objects.order_by("pk").values_list("hold_reason", flat=True))
        assert reasons == ["", "", "", "", "", "ip_limit"]

"""/healthz and /readyz: what a load balancer, an orchestrator and monitoring see."""

from __future__ import annotations

import datetime
import json
from unittest import mock

import time_machine
from django.db import OperationalError, connection
from django.test import TestCase, override_settings
from django.utils import timezone

from signatures import services
from signatures.ops import monitoring
from tests.factories import make_letter

OPERATOR_TOKEN = "operator-token-for-tests"
OPERATOR = {"HTTP_AUTHORIZATION": f"Bearer {OPERATOR_TOKEN}"}

PRODUCTION_LIKE = {
    "DEBUG": False,
    "ALLOWED_HOSTS": ["letters.example.org"],
    "SECURE_SSL_REDIRECT": True,
}


class HealthzTests(TestCase):
    def test_answers_ok_without_touching_the_database(self):
        with self.assertNumQueries(0):
            response = self.client.get("/healthz")
        assert response.status_code == 200
        assert response.content == b"ok\n"

    def test_is_never_indexed_or_cached(self):
        response = self.client.get("/healthz")
        assert response["X-Robots-Tag"].startswith("noindex")
        assert "no-cache" in response["Cache-Control"]

    @override_settings(**PRODUCTION_LIKE)
    def test_answers_a_probe_by_ip_address_over_plain_http(self):
        # Platforms probe the container's address, not the site's name, and
        # without TLS: neither the host check nor the HTTPS redirect applies.
        response = self.client.get("/healthz", HTTP_HOST="10.0.3.7:8000")
        assert response.status_code == 200

    def test_answers_while_the_database_is_down(self):
        with mock.patch.object(connection, "cursor", side_effect=OperationalError("connection refused")):
            response = self.client.get("/healthz")
        assert response.status_code == 200

    def test_is_never_rate_limited(self):
        statuses = {self.client.get("/healthz", REMOTE_ADDR="203.0.113.9").status_code for _ in range(300)}
        assert statuses == {200}

    def test_head_works_and_post_is_refused(self):
        assert self.client.head("/healthz").status_code == 200
        assert self.client.post("/healthz").status_code == 405


@override_settings(SIGNATURES_READYZ_TOKEN=OPERATOR_TOKEN)
class ReadyzTests(TestCase):
    """What the operator sees, with the bearer token."""

    @classmethod
    def setUpTestData(cls):
        cls.letter = make_letter()

    def readyz(self, **extra):
        response = self.client.get("/readyz", **OPERATOR, **extra)
        return response, json.loads(response.content)

    def test_reports_ready_when_the_database_answers_and_is_migrated(self):
        response, report = self.readyz()
        assert response.status_code == 200
        assert response["Content-Type"] == "application/json"
        assert report["status"] == "ok"
        assert report["database"] == "ok"
        assert report["migrations"] == "ok"
        assert response["X-Robots-Tag"].startswith("noindex")
        assert "no-cache" in response["Cache-Control"]

    def test_reports_the_email_queue_depth_and_oldest_age(self):
        with time_machine.travel(timezone.now() - datetime.timedelta(minutes=5), tick=False):
            services.sign_letter(
                letter=self.letter,
                full_name="Chantal Akerman",
                email="chantal@example.org",
                profession=self.letter.professions.first(),
            )
        _response, report = self.readyz()
        queue = report["queue"]
        assert queue, "the email outbox or the task queue is reported"
        for name, health in queue.items():
            assert isinstance(health["depth"], int), name
        if "emails" in queue:
            # The confirmation email was queued with the signature, not sent in the request.
            assert queue["emails"]["depth"] == 1
            assert 290 <= queue["emails"]["oldest_age_seconds"] < 600

    def test_reports_failure_when_the_database_is_unreachable(self):
        with mock.patch.object(connection, "cursor", side_effect=OperationalError("connection refused")):
            response, report = self.readyz()
        assert response.status_code == 503
        assert report == {"status": "fail", "database": "unreachable"}

    def test_reports_failure_while_migrations_are_pending(self):
        with mock.patch.object(monitoring, "unapplied_migrations", return_value=["signatures.9999_from_the_future"]):
            response, report = self.readyz()
        assert response.status_code == 503
        assert report["status"] == "fail"
        assert report["migrations"] == {"unapplied": ["signatures.9999_from_the_future"]}

    @override_settings(**PRODUCTION_LIKE)
    def test_answers_a_probe_by_ip_address_over_plain_http(self):
        response, report = self.readyz(HTTP_HOST="10.0.3.7:8000")
        assert response.status_code == 200
        assert report["status"] == "ok"


@override_settings(SIGNATURES_READYZ_TOKEN=OPERATOR_TOKEN)
class ReadyzForEveryoneElseTests(TestCase):
    """A load balancer, a crawler or a curious visitor: ready or not, nothing more."""

    @classmethod
    def setUpTestData(cls):
        cls.letter = make_letter()
        services.sign_letter(
            letter=cls.letter,
            full_name="Chantal Akerman",
            email="chantal@example.org",
            profession=cls.letter.professions.first(),
        )

    def assert_plain(self, response, *, status=200, body=b"ok\n"):
        assert response.status_code == status
        assert response["Content-Type"].startswith("text/plain")
        assert response.content == body
        assert b"queue" not in response.content

    def test_answers_a_plain_ok_without_the_queue(self):
        self.assert_plain(self.client.get("/readyz"))

    @override_settings(**PRODUCTION_LIKE)
    def test_shows_no_detail_under_any_host(self):
        for host in ("letters.example.org", "10.0.3.7:8000", "127.0.0.1", "evil.example.com"):
            self.assert_plain(self.client.get("/readyz", HTTP_HOST=host))

    def test_a_wrong_or_malformed_token_shows_no_detail(self):
        for header in ("Bearer wrong", f"Basic {OPERATOR_TOKEN}", OPERATOR_TOKEN, "Bearer", ""):
            self.assert_plain(self.client.get("/readyz", HTTP_AUTHORIZATION=header))

    @override_settings(SIGNATURES_READYZ_TOKEN="")
    def test_without_a_token_configured_nobody_sees_detail(self):
        self.assert_plain(self.client.get("/readyz", HTTP_AUTHORIZATION="Bearer "))

    def test_answers_503_when_the_database_is_unreachable(self):
        with mock.patch.object(connection, "cursor", side_effect=OperationalError("connection refused")):
            response = self.client.get("/readyz")
        self.assert_plain(response, status=503, body=b"fail\n")

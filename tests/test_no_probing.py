"""
No probing: the answer to a sign POST is the same whatever we know about the
address — new, pending, confirmed, blocked, held, or caught as a bot. The
difference goes only to the mailbox (within the cap).
"""

from __future__ import annotations

import re
from unittest import mock

import pytest
from django.middleware.csrf import get_token
from django.test import Client, SimpleTestCase, TestCase, override_settings
from django.urls import reverse

from signatures.abuse.bots import HONEYPOT_FIELD, ResponseTimer
from signatures.models import BlockedAddress, BlockedDomain, OutgoingEmail, Signature
from tests.factories import form_guard, make_letter, make_signature, sign_data

# Headers that carry a per-request value; their presence must still match.
VARYING_HEADERS = {"x-request-id", "date"}


def _normalised(response):
    body = response.content.decode()
    body = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', 'name="csrfmiddlewaretoken" value=""', body)
    headers = {
        key.lower(): ("*" if key.lower() in VARYING_HEADERS else value) for key, value in response.headers.items()
    }
    cookies = sorted((name, morsel["max-age"], morsel["samesite"]) for name, morsel in response.cookies.items())
    return response.status_code, headers, body, cookies


@override_settings(
    SIGNATURES_LIMIT_SIGN_IP_BURST="0",
    SIGNATURES_LIMIT_SIGN_IP_SUSTAINED="0",
    SIGNATURES_LIMIT_SIGN_DOMAIN="2/3600",
)
class SignResponseIsTheSameForEveryKindOfSubmissionTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.letter = make_letter()
        make_signature(cls.letter, Signature.State.SUBMITTED, email="pending@example.org")
        make_signature(cls.letter, Signature.State.APPROVED, email="signed@example.org")
        make_signature(cls.letter, Signature.State.CONFIRMED, email="waiting@example.org")
        make_signature(cls.letter, Signature.State.SUBMITTED, email="pending@held.example")
        make_signature(cls.letter, Signature.State.APPROVED, email="signed@held.example")
        BlockedAddress.objects.create(email_normalized="blocked@example.org")
        BlockedDomain.objects.create(domain="blocked.example")

    def submissions(self):
        letter = self.letter
        new = sign_data(letter, email="new@example.org")
        return {
            "new": new,
            "pending": sign_data(letter, email="pending@example.org"),
            "confirmed (awaiting moderation)": sign_data(letter, email="waiting@example.org"),
            "approved": sign_data(letter, email="signed@example.org"),
            "blocked address": sign_data(letter, email="blocked@example.org"),
            "blocked domain": sign_data(letter, email="someone@blocked.example"),
            "held (over the domain limit)": sign_data(letter, email="third@held.example"),
            "honeypot": sign_data(letter, email="bot1@example.org", **{HONEYPOT_FIELD: "http://spam.example"}),
            "too fast": sign_data(letter, email="bot2@example.org", **form_guard(letter, seconds_ago=0)),
            "forged stamp": sign_data(letter, email="bot3@example.org", form_stamp="1:2:forged"),
            "replayed stamp": {**new, "email": "bot4@example.org"},
            "held, already pending": sign_data(letter, email="pending@held.example"),
            "held, already signed": sign_data(letter, email="signed@held.example"),
        }

    def post_as_a_browser(self, data):
        # A fresh browser each time: a session with a CSRF cookie, as a real visitor has.
        client = Client(enforce_csrf_checks=True)
        page = client.get(self.letter.get_absolute_url())
        token = page.context["csrf_token"] if page.context else get_token(page.wsgi_request)
        with self.captureOnCommitCallbacks(execute=True):
            return client.post(
                reverse("signatures:sign", kwargs={"slug": self.letter.slug}),
                {**data, "csrfmiddlewaretoken": str(token)},
                REMOTE_ADDR="203.0.113.7",
            )

    def test_every_kind_of_submission_gets_the_same_status_headers_body_and_cookies(self):
        # Fill the domain window so the next one from that domain is held.
        for n in range(2):
            self.post_as_a_browser(sign_data(self.letter, email=f"first{n}@held.example"))
        answers = {kind: _normalised(self.post_as_a_browser(data)) for kind, data in self.submissions().items()}
        reference = answers["new"]
        assert reference[0] == 302
        for kind, answer in answers.items():
            assert answer == reference, f"a {kind} submission is answered differently"
        held = Signature.objects.get(email_normalized="third@held.example")
        assert held.hold_reason == Signature.HoldReason.DOMAIN_LIMIT
        bots = ["blocked@example.org", "bot1@example.org", "bot4@example.org"]
        assert not Signature.objects.filter(email_normalized__in=bots).exists()
        # Held attempts send nothing at once, whether the address is new or known.
        held_mail = set(OutgoingEmail.objects.held().values_list("to_email", flat=True))
        assert {"third@held.example", "pending@held.example", "signed@held.example"} <= held_mail

    def test_the_page_after_the_redirect_is_the_same_too(self):
        pages = set()
        for data in self.submissions().values():
            response = self.post_as_a_browser(data)
            pages.add(Client().get(response["Location"]).content)
        assert len(pages) == 1


class ResponseTimingTests(SimpleTestCase):
    """Dropped submissions answer no sooner than real ones (measured in bench/probe_timing.py)."""

    def test_a_dropped_submission_waits_about_as_long_as_real_ones_take(self):
        timer = ResponseTimer(initial_seconds=0.2, weight=1.0)
        with mock.patch("signatures.abuse.bots.time.monotonic", side_effect=[10.3, 20.0]):
            timer.observe(started=10.0)  # a real signature took 300 ms
        assert timer.average == pytest.approx(0.3)
        with (
            mock.patch("signatures.abuse.bots.time.monotonic", return_value=20.05),
            mock.patch("signatures.abuse.bots.time.sleep") as sleep,
        ):
            timer.pad(started=20.0)  # a bot answered after 50 ms
        [(waited,)] = [call.args for call in sleep.call_args_list]
        assert 0.3 * 0.9 - 0.05 <= waited <= 0.3 * 1.1 - 0.05

    def test_a_stalled_request_does_not_teach_the_timer_to_stall(self):
        timer = ResponseTimer(initial_seconds=0.1, weight=1.0)
        with mock.patch("signatures.abuse.bots.time.monotonic", return_value=40.0):
            timer.observe(started=10.0)
        assert timer.average < 1.0

    @override_settings(SIGNATURES_PAD_CAUGHT_RESPONSES=False)
    def test_padding_can_be_turned_off(self):
        with mock.patch("signatures.abuse.bots.time.sleep") as sleep:
            ResponseTimer(initial_seconds=5).pad(started=0.0)
        sleep.assert_not_called()

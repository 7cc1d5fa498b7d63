"""
Confirmation and withdrawal tokens: unguessable (256-bit HMAC), stored
nowhere, purpose-bound, expiring, single use even under concurrent POSTs; and
emailed links always point at SITE_URL.
"""

from __future__ import annotations

import re
import threading
from urllib.parse import urlsplit

import pytest
from django.apps import apps
from django.db import connection, connections
from django.test import Client, TestCase, TransactionTestCase, override_settings
from django.urls import reverse

from signatures.emails import render_email
from signatures.models import OutgoingEmail, Signature, SignatureCounter
from signatures.tokens import Purpose, check_token, make_token, parse_token
from tests.factories import make_letter, make_signature, sign_data

needs_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite serialises writers, so it cannot show a race; the row lock is tested on PostgreSQL.",
)


class TokenPropertiesTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.letter = make_letter()
        cls.signature = make_signature(cls.letter)

    def test_a_token_carries_a_256_bit_hmac(self):
        token = make_token(self.signature, Purpose.CONFIRM)
        _, _, digest = parse_token(token)
        assert re.fullmatch(r"[0-9a-f]{64}", digest)  # 64 hex digits: 256 bits, well over 128

    def test_a_token_is_bound_to_its_purpose(self):
        token = make_token(self.signature, Purpose.CONFIRM)
        assert check_token(self.signature, token, Purpose.CONFIRM)
        assert not check_token(self.signature, token, Purpose.WITHDRAW)

    def test_a_token_is_bound_to_its_signature(self):
        other = make_signature(self.letter)
        token = make_token(self.signature, Purpose.CONFIRM)
        assert not check_token(other, token, Purpose.CONFIRM)

    def test_tokens_are_stored_nowhere_in_the_database(self):
        with self.captureOnCommitCallbacks(execute=True):
            self.client.post(reverse("signatures:sign", kwargs={"slug": self.letter.slug}), sign_data(self.letter))
        signature = Signature.objects.get(email_normalized="agnes@example.org")
        token = make_token(signature, Purpose.CONFIRM)
        digest = parse_token(token)[2]
        for model in apps.get_models():
            text_fields = [f.name for f in model._meta.concrete_fields if f.get_internal_type() in ("CharField",)]
            for field in text_fields:
                if model is OutgoingEmail:
                    continue  # the email body holds the link until it is sent, like any mailbox would
                assert not model._default_manager.filter(**{f"{field}__contains": digest}).exists(), (model, field)


class ConfirmLinkRaceTests(TransactionTestCase):
    @needs_postgres
    def test_twenty_concurrent_posts_of_one_link_make_exactly_one_transition(self):
        letter = make_letter(requires_moderation=False)
        signature = make_signature(letter)
        url = reverse("signatures:confirm", kwargs={"token": make_token(signature, Purpose.CONFIRM)})
        threads_count = 20
        barrier = threading.Barrier(threads_count)
        statuses: list[int] = []
        errors: list[BaseException] = []

        def post():
            try:
                barrier.wait()
                statuses.append(Client().post(url, REMOTE_ADDR=f"198.51.100.{len(statuses)}").status_code)
            except BaseException as exc:
                errors.append(exc)
            finally:
                connections.close_all()

        with override_settings(SIGNATURES_LIMIT_TOKEN_POSTS_PER_IP="0"):
            threads = [threading.Thread(target=post) for _ in range(threads_count)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=60)

        assert errors == []
        assert sorted(statuses) == [200] + [400] * (threads_count - 1)
        signature.refresh_from_db()
        assert signature.state == Signature.State.APPROVED
        assert SignatureCounter.value_for(letter, SignatureCounter.PUBLIC) == 1
        assert SignatureCounter.value_for(letter, "state:approved") == 1
        assert SignatureCounter.value_for(letter, "state:submitted") == 0


class EmailedLinksUseSiteUrlTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.letter = make_letter()

    @override_settings(ALLOWED_HOSTS=["*"], SITE_URL="https://letters.example.org")
    def test_a_spoofed_host_header_never_reaches_an_emailed_link(self):
        with self.captureOnCommitCallbacks(execute=True):
            self.client.post(
                reverse("signatures:sign", kwargs={"slug": self.letter.slug}),
                sign_data(self.letter),
                HTTP_HOST="evil.example",
                HTTP_X_FORWARDED_HOST="evil.example",
            )
        email = OutgoingEmail.objects.get()
        links = re.findall(r"https?://[^\s\"<>]+", "".join(render_email(email)))
        assert links
        assert {urlsplit(link).netloc for link in links} == {"letters.example.org"}, links
        assert "evil.example" not in "".join(render_email(email))

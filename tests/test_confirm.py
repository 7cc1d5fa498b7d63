from __future__ import annotations

import time_machine
from django.core import mail
from django.test import TestCase
from django.urls import reverse
from django.utils import timezone
from django.utils.http import int_to_base36

from signatures.models import Signature
from signatures.tokens import Purpose, make_token
from tests.factories import make_letter, make_signature, make_staff, sign_data
from tests.helpers import path_of_link


class SigningFlowTests(TestCase):
    """Sign, confirm by email, get approved, appear on the list: the whole promise."""

    def sign(self, letter, **overrides):
        url = reverse("signatures:sign", kwargs={"slug": letter.slug})
        with self.captureOnCommitCallbacks(execute=True):
            self.client.post(url, sign_data(letter, **overrides))
        [message] = mail.outbox
        return path_of_link(message, "/confirm/")

    def test_sign_confirm_approve_then_listed_and_counted(self):
        letter = make_letter(requires_moderation=True)
        confirm_path = self.sign(letter)
        message = mail.outbox[0]
        assert letter.title in message.subject
        assert message.from_email
        assert message.extra_headers["Auto-Submitted"] == "auto-generated"
        html, mimetype = message.alternatives[0]
        assert mimetype == "text/html"
        assert confirm_path in html
        assert message.body.count("http://testserver") == 0  # links come from SITE_URL

        # Following the link shows a button and changes nothing.
        page = self.client.get(confirm_path)
        self.assertContains(page, "Confirm my signature")
        assert Signature.objects.get().state == Signature.State.SUBMITTED

        # Pressing the button confirms.
        response = self.client.post(confirm_path)
        self.assertContains(response, "Thank you for signing")
        self.assertContains(response, "bsky.app")
        signature = Signature.objects.get()
        assert signature.state == Signature.State.CONFIRMED
        assert signature.confirmed_at is not None

        # Not public until a moderator approves.
        letter_page = self.client.get(letter.get_absolute_url())
        self.assertNotContains(letter_page, "Agnès Varda")
        assert letter_page.context["letter"].public_count == 0

        organizer = make_staff()
        self.client.force_login(organizer)
        changelist = reverse("admin:signatures_signature_changelist")
        response = self.client.post(changelist, {"action": "approve", "_selected_action": [signature.pk]})
        assert response.status_code == 302
        self.client.logout()

        signature.refresh_from_db()
        assert signature.state == Signature.State.APPROVED
        assert signature.moderated_by == organizer
        letter_page = self.client.get(letter.get_absolute_url())
        self.assertContains(letter_page, "Agnès Varda")
        self.assertContains(letter_page, "<strong>1</strong> signature")
        listing = self.client.get(reverse("signatures:signatories", kwargs={"slug": letter.slug}))
        self.assertContains(listing, "Agnès Varda")
        self.assertContains(listing, "Ciné-Tamaris")

    def test_a_letter_without_moderation_lists_a_confirmed_signature_at_once(self):
        letter = make_letter(requires_moderation=False)
        confirm_path = self.sign(letter)
        self.client.post(confirm_path)
        assert Signature.objects.get().state == Signature.State.APPROVED
        page = self.client.get(letter.get_absolute_url())
        self.assertContains(page, "Agnès Varda")
        self.assertContains(page, "<strong>1</strong> signature")

    def test_the_confirmation_page_says_what_will_happen(self):
        letter = make_letter(requires_moderation=False)
        page = self.client.get(self.sign(letter, wants_listing=None))
        self.assertContains(page, "Your signature will be counted straight away.")
        self.assertContains(page, "Your name will not be shown publicly.")


class ConfirmationLinkTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.letter = make_letter()

    def setUp(self):
        self.signature = make_signature(self.letter, Signature.State.SUBMITTED)

    def path(self, token):
        return reverse("signatures:confirm", kwargs={"token": token})

    def assert_link_refused(self, token):
        page = self.client.get(self.path(token))
        self.assertContains(page, "This link no longer works", status_code=400)
        self.assertContains(page, "sign the letter again with the same email address", status_code=400)
        response = self.client.post(self.path(token))
        self.assertContains(response, "This link no longer works", status_code=400)
        self.signature.refresh_from_db()
        assert self.signature.state == Signature.State.SUBMITTED

    def test_get_shows_a_button_and_changes_nothing(self):
        token = make_token(self.signature, Purpose.CONFIRM)
        for _ in range(3):
            self.assertContains(self.client.get(self.path(token)), '<form method="post"')
        self.signature.refresh_from_db()
        assert self.signature.state == Signature.State.SUBMITTED
        assert self.signature.confirmed_at is None

    def test_token_pages_are_never_cached(self):
        token = make_token(self.signature, Purpose.CONFIRM)
        assert "no-store" in self.client.get(self.path(token))["Cache-Control"]

    def test_an_expired_link_is_refused(self):
        with time_machine.travel(timezone.now() - timezone.timedelta(days=8)):
            token = make_token(self.signature, Purpose.CONFIRM)
        self.assert_link_refused(token)

    def test_a_link_just_inside_its_lifetime_works(self):
        with time_machine.travel(timezone.now() - timezone.timedelta(days=6, hours=23)):
            token = make_token(self.signature, Purpose.CONFIRM)
        self.client.post(self.path(token))
        self.signature.refresh_from_db()
        assert self.signature.state == Signature.State.CONFIRMED

    def test_a_tampered_link_is_refused(self):
        token = make_token(self.signature, Purpose.CONFIRM)
        last = "0" if token[-1] != "0" else "1"
        self.assert_link_refused(token[:-1] + last)

    def test_a_link_for_another_signature_is_refused(self):
        other = make_signature(self.letter, Signature.State.SUBMITTED)
        token = make_token(other, Purpose.CONFIRM)
        _pk_part, rest = token.split("-", 1)

        self.assert_link_refused(f"{int_to_base36(self.signature.pk)}-{rest}")

    def test_a_withdrawal_token_does_not_confirm(self):
        self.assert_link_refused(make_token(self.signature, Purpose.WITHDRAW))

    def test_malformed_links_are_refused(self):
        for token in ("x", "abc-def", "1-2-3", "zz-zz-" + "g" * 64, "-" * 10, "1" * 200):
            self.assert_link_refused(token)

    def test_a_used_link_is_refused_the_second_time(self):
        token = make_token(self.signature, Purpose.CONFIRM)
        self.client.post(self.path(token))
        page = self.client.get(self.path(token))
        self.assertContains(page, "This link no longer works", status_code=400)
        self.assertContains(self.client.post(self.path(token)), "This link no longer works", status_code=400)
        self.signature.refresh_from_db()
        assert self.signature.state == Signature.State.CONFIRMED

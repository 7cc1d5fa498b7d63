"""Bot friction: a honeypot and a minimum fill time; caught submissions store and send nothing, and are counted."""

from __future__ import annotations

import time

import time_machine
from django.conf import settings
from django.core import signing
from django.test import Client, TestCase, override_settings
from django.urls import reverse
from django.utils import timezone

from signatures.abuse import bots
from signatures.models import CaughtSubmission, OutgoingEmail, Signature
from tests.factories import drawn_form_fields, form_guard, make_letter, sign_data


class SignFormGuardTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.letter = make_letter()
        cls.url = reverse("signatures:sign", kwargs={"slug": cls.letter.slug})
        cls.check_email = reverse("signatures:check_email", kwargs={"slug": cls.letter.slug})

    def post(self, **overrides):
        with self.captureOnCommitCallbacks(execute=True):
            return self.client.post(self.url, sign_data(self.letter, **overrides))

    def assert_caught(self, response, reason):
        self.assertRedirects(response, self.check_email)
        assert not Signature.objects.exists()
        assert not OutgoingEmail.objects.exists()
        assert CaughtSubmission.objects.get(letter=self.letter, reason=reason).count == 1

    def test_the_form_carries_a_hidden_honeypot_and_a_signed_stamp(self):
        page = self.client.get(self.letter.get_absolute_url()).content.decode()
        assert f'name="{bots.HONEYPOT_FIELD}"' in page
        assert "<div hidden" in page
        assert f'name="{bots.STAMP_FIELD}"' in page

    def test_a_person_who_took_their_time_is_signed_up(self):
        self.assertRedirects(self.post(), self.check_email)
        assert Signature.objects.count() == 1
        assert not CaughtSubmission.objects.exists()

    def test_a_filled_honeypot_stores_nothing_sends_nothing_looks_successful_and_is_counted(self):
        self.assert_caught(self.post(**{bots.HONEYPOT_FIELD: "https://cheap-pills.example"}), "honeypot")

    @override_settings(SIGNATURES_MIN_FILL_SECONDS=5)
    def test_a_form_sent_faster_than_a_person_can_type_is_caught(self):
        self.assert_caught(self.post(**form_guard(self.letter, seconds_ago=2)), "too_fast")

    @override_settings(SIGNATURES_MIN_FILL_SECONDS=5)
    def test_the_minimum_fill_time_is_measured_from_when_the_page_was_drawn(self):
        with time_machine.travel(timezone.now(), tick=False) as traveller:
            page = self.client.get(self.letter.get_absolute_url()).content.decode()
            drawn = drawn_form_fields(page)
            traveller.shift(6)
            self.assertRedirects(self.post(**drawn), self.check_email)
        assert Signature.objects.count() == 1

    def test_a_missing_or_forged_stamp_is_caught(self):
        self.assert_caught(self.post(form_stamp=None), "bad_stamp")
        other_letter = make_letter()
        self.post(**form_guard(other_letter))
        assert CaughtSubmission.objects.get(reason="bad_stamp").count == 2
        assert not Signature.objects.exists()

    @override_settings(SIGNATURES_FORM_MAX_AGE_HOURS=1)
    def test_a_form_left_open_too_long_asks_the_person_to_send_it_again(self):
        response = self.post(**form_guard(self.letter, seconds_ago=7200))
        self.assertContains(response, "send it again", status_code=400)
        assert not Signature.objects.exists()
        # The form drawn again carries a fresh stamp that works.
        drawn = drawn_form_fields(response.content.decode())
        visitor = drawn["csrfmiddlewaretoken"]
        verdict = bots.inspect(drawn, self.letter.pk, visitor=visitor, now=time.time() + 60)
        assert verdict == bots.HUMAN

    def test_a_stamp_is_good_for_one_submission_a_replay_is_a_caught_bot(self):
        guard = form_guard(self.letter)
        self.assertRedirects(self.post(email="first@example.org", **guard), self.check_email)
        replay = self.post(email="stranger@victim.example", **guard)
        self.assertRedirects(replay, self.check_email)
        assert list(Signature.objects.values_list("email_normalized", flat=True)) == ["first@example.org"]
        assert list(OutgoingEmail.objects.values_list("to_email", flat=True)) == ["first@example.org"]
        assert CaughtSubmission.objects.get(reason="reused_stamp").count == 1

    def test_a_form_sent_back_with_errors_does_not_use_up_its_stamp(self):
        guard = form_guard(self.letter)
        self.assertContains(self.post(email="not-an-address", **guard), "error-summary", status_code=400)
        self.assertRedirects(self.post(email="fixed@example.org", **guard), self.check_email)
        assert Signature.objects.get().email_normalized == "fixed@example.org"

    def test_a_stamp_drawn_for_one_visitor_is_caught_when_another_sends_it(self):
        with time_machine.travel(timezone.now(), tick=False) as traveller:
            page = self.client.get(self.letter.get_absolute_url()).content.decode()
            drawn = drawn_form_fields(page)
            stamp = drawn[bots.STAMP_FIELD]
            other = Client(enforce_csrf_checks=True)
            others_own = drawn_form_fields(other.get(self.letter.get_absolute_url()).content.decode())
            traveller.shift(60)
            # With the first visitor's token too, CSRF protection refuses it outright.
            assert other.post(self.url, sign_data(self.letter, **drawn)).status_code == 403
            # With its own token, the stamp does not belong to the form it came in.
            with self.captureOnCommitCallbacks(execute=True):
                response = other.post(
                    self.url,
                    sign_data(self.letter, csrfmiddlewaretoken=others_own["csrfmiddlewaretoken"], form_stamp=stamp),
                )
            self.assert_caught(response, "bad_stamp")
            # Its own visitor can send it.
            self.assertRedirects(self.post(**drawn), self.check_email)
        assert Signature.objects.count() == 1

    def test_a_stamp_stays_used_until_it_would_have_expired(self):
        guard = form_guard(self.letter)
        assert [bots.use_stamp(guard), bots.use_stamp(guard)] == [True, False]
        # The mark lasts as long as the stamp could be sent.
        with time_machine.travel(time.time() + settings.SIGNATURES_FORM_MAX_AGE_HOURS * 3600 - 600):
            assert bots.use_stamp(guard) is False

    def test_a_form_drawn_before_stamps_were_single_use_asks_to_be_sent_again(self):
        old_stamp = signing.Signer(salt="signatures.bots.form-stamp").sign(f"{self.letter.pk}:{int(time.time()) - 60}")
        self.assertContains(self.post(form_stamp=old_stamp), "send it again", status_code=400)
        assert not Signature.objects.exists()

    def test_catches_are_tallied_per_letter_day_and_reason(self):
        for _ in range(3):
            self.post(**{bots.HONEYPOT_FIELD: "x"})
        assert CaughtSubmission.objects.get(reason="honeypot").count == 3

"""
Allow and block lists and the privacy notice's version, kept in each web
process for a few seconds in production: a change an organizer saves still
takes effect at once in the process that saved it.
"""

from __future__ import annotations

import ipaddress
import re

from django.test import TestCase, override_settings
from django.urls import reverse

from signatures import services
from signatures.caching import organizer_data
from signatures.models import (
    AllowedNetwork,
    BlockedAddress,
    BlockedDomain,
    CaughtSubmission,
    PrivacyNotice,
    Profession,
    Signature,
)
from tests.factories import make_letter, sign_data
from tests.test_versions import edit_text


@override_settings(SIGNATURES_ORGANIZER_DATA_SECONDS=60)
class KeptOrganizerDataTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.letter = make_letter()

    def setUp(self):
        organizer_data.forget()
        self.addCleanup(organizer_data.forget)

    def sign(self, email: str) -> None:
        response = self.client.post(
            reverse("signatures:sign", args=[self.letter.slug]), sign_data(self.letter, email=email)
        )
        assert response.status_code == 302

    def test_an_address_blocked_after_the_list_was_kept_is_dropped_at_once(self):
        self.sign("first@example.org")
        BlockedAddress.objects.create(email_normalized="troll@example.org")

        self.sign("troll@example.org")

        assert not Signature.objects.filter(email_normalized="troll@example.org").exists()
        assert CaughtSubmission.objects.get(reason=CaughtSubmission.Reason.BLOCKED_ADDRESS).count == 1

    def test_a_domain_unblocked_after_the_list_was_kept_signs_again(self):
        blocked = BlockedDomain.objects.create(domain="spam.example")
        self.sign("a@spam.example")
        assert not Signature.objects.filter(email_normalized="a@spam.example").exists()

        blocked.delete()
        self.sign("b@spam.example")

        assert Signature.objects.filter(email_normalized="b@spam.example").exists()

    def test_a_new_privacy_notice_is_recorded_with_the_next_signature(self):
        PrivacyNotice.objects.create(body="First.", version="2026-01")
        self.sign("first@example.org")
        PrivacyNotice.objects.create(body="Second.", version="2026-02")

        self.sign("second@example.org")

        assert Signature.objects.get(email_normalized="first@example.org").consent_version.endswith("/2026-01")
        assert Signature.objects.get(email_normalized="second@example.org").consent_version.endswith("/2026-02")

    def test_an_allowed_network_removed_no_longer_counts_as_allowed(self):
        network = AllowedNetwork.objects.create(cidr="192.0.2.0/24")
        assert organizer_data.is_allowed_network(ipaddress.ip_address("192.0.2.7"))

        network.delete()

        assert not organizer_data.is_allowed_network(ipaddress.ip_address("192.0.2.7"))

    def test_a_profession_added_after_the_list_was_kept_can_be_chosen(self):
        self.sign("first@example.org")
        cinematographer = Profession.objects.create(letter=self.letter, name="Cinematographer", position=99)

        self.sign_as(cinematographer, "second@example.org")

        assert Signature.objects.get(email_normalized="second@example.org").profession == cinematographer

    def test_a_version_published_after_the_last_signature_is_the_one_the_next_signer_gets(self):
        self.sign("first@example.org")
        edit_text(self.letter, "A clearer demand.")
        services.publish_letter_version(letter=self.letter, is_major=False, note="Clearer")

        self.sign("second@example.org")

        assert Signature.objects.get(email_normalized="first@example.org").version.number == 1
        assert Signature.objects.get(email_normalized="second@example.org").version.number == 2

    def sign_as(self, profession: Profession, email: str) -> None:
        data = sign_data(self.letter, email=email, profession=str(profession.pk))
        response = self.client.post(reverse("signatures:sign", args=[self.letter.slug]), data)
        assert response.status_code == 302


@override_settings(SIGNATURES_ORGANIZER_DATA_SECONDS=60)
class KeptBlankSignFormTests(TestCase):
    """The blank sign form's fields are kept with the professions and questions they show."""

    @classmethod
    def setUpTestData(cls):
        cls.letter = make_letter()

    def setUp(self):
        organizer_data.forget()
        self.addCleanup(organizer_data.forget)

    def letter_page(self, language: str = "en") -> str:
        response = self.client.get(self.letter.get_absolute_url(), headers={"accept-language": language})
        assert response.status_code == 200
        return response.content.decode()

    def test_the_page_drawn_from_the_kept_form_is_the_page_drawn_afresh(self):
        with override_settings(SIGNATURES_ORGANIZER_DATA_SECONDS=0):
            drawn = self.letter_page()
        self.letter_page()
        kept = self.letter_page()
        # Only the CSRF token and the stamp differ from one view to the next.
        assert _without_tokens(kept) == _without_tokens(drawn)

    def test_a_profession_added_after_the_form_was_kept_shows_at_once(self):
        assert "Cinematographer" not in self.letter_page()
        Profession.objects.create(letter=self.letter, name="Cinematographer", position=5)
        assert ">Cinematographer</option>" in self.letter_page()

    def test_each_language_gets_the_form_in_its_own_words(self):
        assert "(optional)" in self.letter_page("en")
        spanish = self.letter_page("es")
        assert "(opcional)" in spanish
        assert "(optional)" not in spanish
        assert "(optional)" in self.letter_page("en")

    def test_a_form_sent_back_with_errors_shows_that_visitors_answers_not_the_kept_blank_form(self):
        self.letter_page()
        data = sign_data(self.letter, email="not an address")
        data["full_name"] = "<b>Ada</b> Lovelace"
        response = self.client.post(reverse("signatures:sign", args=[self.letter.slug]), data)
        assert response.status_code == 400
        page = response.content.decode()
        assert 'value="&lt;b&gt;Ada&lt;/b&gt; Lovelace"' in page
        assert "<b>Ada</b>" not in page
        assert 'class="error"' in page
        assert 'value="&lt;b&gt;Ada' not in self.letter_page()


def _without_tokens(page: str) -> str:
    return re.sub(r'value="[^"]{30,}"', 'value=""', page)

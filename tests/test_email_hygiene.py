"""Email hygiene: throwaway domains refused clearly, organizer blocklists, one documented canonical form."""

from __future__ import annotations

from django.test import SimpleTestCase, TestCase, override_settings
from django.urls import reverse
from hypothesis import given, settings
from hypothesis import strategies as st

from signatures.abuse.disposable import is_disposable_domain
from signatures.models import AllowedDomain, BlockedAddress, BlockedDomain, CaughtSubmission, OutgoingEmail, Signature
from signatures.text import normalize_email
from tests.factories import make_letter, sign_data


class DisposableDomainTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.letter = make_letter()
        cls.url = reverse("signatures:sign", kwargs={"slug": cls.letter.slug})

    def post(self, email):
        with self.captureOnCommitCallbacks(execute=True):
            return self.client.post(self.url, sign_data(self.letter, email=email))

    def test_the_list_knows_common_throwaway_domains_and_their_subdomains(self):
        assert is_disposable_domain("mailinator.com")
        assert is_disposable_domain("inbox.mailinator.com")
        assert not is_disposable_domain("example.org")

    def test_a_throwaway_address_gets_a_clear_error_and_nothing_is_stored(self):
        response = self.post("someone@Mailinator.com")
        self.assertContains(response, "Addresses at mailinator.com are temporary", status_code=400)
        assert "email" in response.context["form"].errors
        assert not Signature.objects.exists()

    @override_settings(SIGNATURES_REJECT_DISPOSABLE_EMAILS=False)
    def test_the_check_can_be_turned_off(self):
        self.assertRedirects(self.post("someone@mailinator.com"), f"/letters/{self.letter.slug}/check-your-email/")
        assert Signature.objects.count() == 1

    def test_organizers_can_allow_a_domain_the_list_calls_disposable(self):
        AllowedDomain.objects.create(domain="mailinator.com")
        assert self.post("someone@mailinator.com").status_code == 302


class BlocklistTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.letter = make_letter()
        cls.url = reverse("signatures:sign", kwargs={"slug": cls.letter.slug})
        BlockedDomain.objects.create(domain="Spam.Example")
        BlockedAddress.objects.create(email_normalized="Troll@Example.org")

    def post(self, email):
        with self.captureOnCommitCallbacks(execute=True):
            return self.client.post(self.url, sign_data(self.letter, email=email))

    def test_a_blocked_domain_and_its_subdomains_are_dropped_silently(self):
        for email in ("a@spam.example", "b@mail.spam.example"):
            assert self.post(email).status_code == 302
        assert not Signature.objects.exists()
        assert not OutgoingEmail.objects.exists()
        assert CaughtSubmission.objects.get(reason="blocked_domain").count == 2

    def test_a_blocked_address_is_dropped_silently_in_any_case(self):
        assert self.post("TROLL@example.org").status_code == 302
        assert not Signature.objects.exists()
        assert not OutgoingEmail.objects.exists()
        assert CaughtSubmission.objects.get(reason="blocked_address").count == 1

    def test_other_addresses_at_the_same_domain_still_sign(self):
        assert self.post("friend@example.org").status_code == 302
        assert Signature.objects.count() == 1


class CanonicalEmailTests(SimpleTestCase):
    def test_case_spaces_and_unicode_composition_fold(self):
        assert normalize_email("  Agnès@Example.ORG ") == "agnès@example.org"
        assert normalize_email("Agne\u0300s@example.org") == normalize_email("Agnès@example.org")

    def test_plus_tags_and_dots_do_not_fold(self):
        # Distinct mailboxes on most providers: merging them could merge two people.
        assert normalize_email("a.b+letter@gmail.com") == "a.b+letter@gmail.com"
        assert normalize_email("ab@gmail.com") != normalize_email("a.b@gmail.com")

    def test_lowercasing_that_undoes_composition_is_composed_again(self):
        tricky = "\u03aa\u0301@example.org"
        assert normalize_email(normalize_email(tricky)) == normalize_email(tricky)

    @settings(max_examples=300, deadline=None, database=None)
    @given(st.text(max_size=60))
    def test_the_canonical_form_is_idempotent(self, value):
        once = normalize_email(value)
        assert normalize_email(once) == once

"""An email address is never shown publicly, in any page or response."""

from __future__ import annotations

from django.test import TestCase
from django.urls import reverse

from signatures.models import Signature
from signatures.tokens import Purpose, make_token
from tests.factories import make_letter, make_signature


class NoEmailOnPublicPagesTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.letter = make_letter()
        states = [Signature.State.APPROVED] * 3 + [Signature.State.CONFIRMED, Signature.State.SUBMITTED]
        cls.signatures = [
            make_signature(cls.letter, state, email=f"secret.person{n}@private-domain.example", is_notable=n == 0)
            for n, state in enumerate(states)
        ]

    def public_urls(self):
        slug = self.letter.slug
        pending = self.signatures[-1]
        return [
            reverse("signatures:home"),
            self.letter.get_absolute_url(),
            reverse("signatures:signatories", kwargs={"slug": slug}),
            reverse("signatures:check_email", kwargs={"slug": slug}),
            reverse("signatures:confirm", kwargs={"token": make_token(pending, Purpose.CONFIRM)}),
        ]

    def test_no_public_page_contains_any_signer_email(self):
        emails = [s.email for s in Signature.objects.all()]
        for url in self.public_urls():
            response = self.client.get(url, follow=True)
            body = response.content.decode()
            for email in emails:
                assert email not in body, f"{email} leaked on {url}"
                assert email.split("@")[0] not in body, f"local part of {email} leaked on {url}"

    def test_a_signature_string_never_shows_the_email(self):
        signature = self.signatures[0]
        assert signature.email not in str(signature)

"""The Content Security Policy blocks nothing the site itself needs, the Django admin included."""

from __future__ import annotations

from django.conf import settings
from django.test import Client
from django.urls import reverse

from signatures.models import Signature
from tests.browser.base import DESKTOP, BrowserTestCase
from tests.factories import make_letter, make_signature, make_staff


class ContentSecurityPolicyInTheBrowserTests(BrowserTestCase):
    def setUp(self):
        self.letter = make_letter(requires_moderation=True)
        self.signature = make_signature(self.letter, Signature.State.CONFIRMED)
        self.violations: list[str] = []

    def watched_page(self, **options):
        page = self.new_page(**{**DESKTOP, **options})
        page.on(
            "console",
            lambda message: "Content Security Policy" in message.text and self.violations.append(message.text),
        )
        return page

    def test_public_pages_load_without_a_single_violation(self):
        page = self.watched_page()
        for path in (
            self.letter.get_absolute_url(),
            reverse("signatures:signatories", kwargs={"slug": self.letter.slug}),
            reverse("signatures:privacy"),
        ):
            response = page.goto(path)
            assert response.status == 200, path
        assert self.violations == []

    def test_the_admin_works_under_the_policy(self):
        client = Client()
        client.force_login(make_staff())
        page = self.watched_page()
        page.context.add_cookies(
            [
                {
                    "name": settings.SESSION_COOKIE_NAME,
                    "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                    "url": self.live_server_url,
                }
            ]
        )
        for path in (
            reverse("admin:index"),
            reverse("admin:signatures_signature_changelist"),
            reverse("admin:signatures_letter_add"),
            reverse("admin:signatures_signature_change", args=[self.signature.pk]),
        ):
            response = page.goto(path)
            assert response.status == 200, path
        # The letter form's slug is filled from the title by the admin's own script.
        page.goto(reverse("admin:signatures_letter_add"))
        page.locator("#id_title").press_sequentially("A new letter")
        assert page.input_value("#id_slug") == "a-new-letter"
        assert self.violations == []

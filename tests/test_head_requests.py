"""HEAD works wherever GET does: link checkers, uptime monitors and crawlers ask with HEAD."""

from __future__ import annotations

from django.test import TestCase
from django.urls import reverse

from signatures.models import Signature
from tests.pages import confirm_path, pending_signature, public_pages, seed_demo_letter


class HeadRequestTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.letter = seed_demo_letter()

    def test_every_public_page_answers_head_as_it_answers_get(self):
        for page in public_pages(self.letter):
            if page.method != "get":
                continue
            response = self.client.head(page.path)
            assert response.status_code == page.status, (page.name, response.status_code)
            assert response.content == b"", page.name

    def test_exports_badges_and_the_share_image_answer_head(self):
        slug = {"slug": self.letter.slug}
        for name in ("export_csv", "export_json", "count_json", "badge", "badge_svg", "share_image"):
            response = self.client.head(reverse(f"signatures:{name}", kwargs=slug))
            assert response.status_code == 200, (name, response.status_code)

    def test_head_on_a_confirmation_link_changes_nothing(self):
        signature = pending_signature(self.letter, "head@example.org")
        assert self.client.head(confirm_path(signature)).status_code == 200
        signature.refresh_from_db()
        assert signature.state == Signature.State.SUBMITTED

"""Share-ready pages: Open Graph and Twitter cards, plain share links, and a generated share image."""

from __future__ import annotations

import io
from unittest import mock

from django.core.cache import cache
from django.test import TestCase, override_settings
from django.urls import reverse
from PIL import Image

from signatures import share_image
from signatures.models import Signature
from tests.factories import make_letter, make_signature


class ShareTagsTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.letter = make_letter(title="Our work is not your training data", summary="Uphold copyright.", goal=100)
        for _ in range(3):
            make_signature(cls.letter, Signature.State.APPROVED)

    def test_the_letter_page_has_open_graph_and_twitter_cards_with_title_summary_and_count(self):
        page = self.client.get(self.letter.get_absolute_url())
        image = f"http://127.0.0.1:8000/letters/{self.letter.slug}/share.png?v=3"
        for tag in (
            '<meta property="og:title" content="Our work is not your training data">',
            '<meta property="og:description" content="Uphold copyright. 3 signatures so far.">',
            f'<meta property="og:url" content="http://127.0.0.1:8000{self.letter.get_absolute_url()}">',
            f'<meta property="og:image" content="{image}">',
            '<meta name="twitter:card" content="summary_large_image">',
            '<meta name="twitter:title" content="Our work is not your training data">',
            f'<meta name="twitter:image" content="{image}">',
        ):
            self.assertContains(page, tag, html=True)

    def test_share_links_are_plain_links_without_third_party_scripts(self):
        page = self.client.get(self.letter.get_absolute_url())
        html = page.content.decode()
        for host in ("wa.me", "bsky.app", "mastodonshare.com", "facebook.com", "linkedin.com", "x.com"):
            assert f"https://{host}/" in html or f"https://www.{host}/" in html
        assert "mailto:?subject=" in html
        assert (
            f"https://wa.me/?text=Our%20work%20is%20not%20your%20training%20data%20http%3A//127.0.0.1%3A8000{self.letter.get_absolute_url()}"
            in html.replace("%2F", "/")
        )
        assert html.count("<script") == 1
        self.assertContains(page, 'src="/static/js/site.js" defer', html=False)

    def test_the_native_share_button_waits_hidden_for_a_browser_that_can_share(self):
        page = self.client.get(self.letter.get_absolute_url())
        self.assertContains(page, 'data-share-title="Our work is not your training data" hidden')


class ShareImageTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.letter = make_letter(title="Our work is not your training data " * 3, goal=10)
        make_signature(cls.letter, Signature.State.APPROVED)

    def setUp(self):
        cache.clear()

    def url(self):
        return reverse("signatures:share_image", kwargs={"slug": self.letter.slug})

    def test_the_share_image_is_a_1200_by_630_png(self):
        response = self.client.get(self.url())
        assert response.status_code == 200
        assert response["Content-Type"] == "image/png"
        assert "public" in response["Cache-Control"]
        image = Image.open(io.BytesIO(response.content))
        assert (image.format, image.size) == ("PNG", (1200, 630))

    def test_it_is_drawn_once_per_count_and_again_when_the_count_changes(self):
        with mock.patch.object(share_image, "render_share_image", wraps=share_image.render_share_image) as render:
            first = self.client.get(self.url()).content
            again = self.client.get(self.url()).content
            assert render.call_count == 1
            assert first == again
            make_signature(self.letter, Signature.State.APPROVED)
            changed = self.client.get(self.url()).content
            assert render.call_count == 2
            assert changed != first

    def test_the_image_carries_the_addressee_and_the_sites_name(self):
        plain = share_image.render_share_image(self.letter)
        self.letter.addressee = "The Minister for Culture"
        with_addressee = share_image.render_share_image(self.letter)
        assert with_addressee != plain
        with override_settings(SITE_URL="https://letters.example.org"):
            assert share_image.site_name() == "letters.example.org"
            assert share_image.render_share_image(self.letter) != with_addressee

    def test_drafts_have_no_share_image(self):
        draft = make_letter(status="draft")
        response = self.client.get(reverse("signatures:share_image", kwargs={"slug": draft.slug}))
        assert response.status_code == 404

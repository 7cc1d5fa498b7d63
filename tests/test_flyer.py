"""The printable flyer: title, addressee, summary and a QR code of the letter's address, drawn inline."""

from __future__ import annotations

from django.test import TestCase
from django.urls import reverse

from tests.factories import make_letter


class FlyerTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.letter = make_letter(
            title="Our work is not your training data",
            addressee="The Minister for Culture",
            summary="Uphold copyright against AI training.",
        )

    def get(self):
        return self.client.get(reverse("signatures:flyer", kwargs={"slug": self.letter.slug}))

    def test_it_shows_title_addressee_summary_and_the_letters_address(self):
        response = self.get()
        assert response.status_code == 200
        self.assertContains(response, '<h1 class="flyer-title">Our work is not your training data</h1>', html=True)
        self.assertContains(response, "To The Minister for Culture")
        self.assertContains(response, "Uphold copyright against AI training.")
        self.assertContains(response, f"http://127.0.0.1:8000{self.letter.get_absolute_url()}")

    def test_the_qr_code_is_an_inline_svg_of_the_letters_absolute_url(self):
        content = self.get().content.decode()
        assert '<svg viewBox="0 0 ' in content
        assert 'class="flyer-qr-code"' in content
        assert f"<title>QR code: http://127.0.0.1:8000{self.letter.get_absolute_url()}</title>" in content
        assert "<img" not in content.split('<article class="flyer"')[1]

    def test_the_letter_page_links_to_the_flyer(self):
        response = self.client.get(self.letter.get_absolute_url())
        self.assertContains(response, reverse("signatures:flyer", kwargs={"slug": self.letter.slug}))

    def test_the_stylesheet_prints_the_flyer_alone(self):
        # Print CSS is checked where it lives; the browser screenshot shows the result.
        response = self.get()
        self.assertContains(response, "data-print hidden")

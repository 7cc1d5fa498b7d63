"""Rough edges a phone shows: a very long name, the profession chips, the withdrawal field, the share button."""

from __future__ import annotations

from django.urls import reverse
from playwright.sync_api import expect

from signatures.models import Profession, Signature
from tests.browser.base import BrowserTestCase
from tests.factories import make_letter, make_signature

LONG_NAME = "Wolfeschlegelsteinhausenbergerdorff" * 3 + "Hubert" * 5 + "Blaine"


class PhoneLayoutTests(BrowserTestCase):
    def setUp(self):
        self.letter = make_letter(title="Our work is not your training data", goal=100)
        for n in range(16):
            profession = Profession.objects.create(letter=self.letter, name=f"Profession number {n}", position=n + 2)
            make_signature(self.letter, Signature.State.APPROVED, full_name=f"Signer {n}", profession=profession)
        make_signature(self.letter, Signature.State.APPROVED, full_name=LONG_NAME[:120])
        make_signature(self.letter, Signature.State.APPROVED, full_name="Agnès Varda")

    def test_a_120_character_name_without_spaces_keeps_the_page_390_px_wide(self):
        assert len(LONG_NAME[:120]) == 120
        page = self.new_page()
        for path in (self.letter.get_absolute_url(), reverse("signatures:signatories", args=[self.letter.slug])):
            page.goto(path)
            expect(page.get_by_text(LONG_NAME[:40])).to_have_count(1)
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, f"{path} is {width}px wide"

    def test_the_first_name_on_the_list_is_on_the_first_screen_despite_sixteen_professions(self):
        page = self.new_page()
        page.goto(reverse("signatures:signatories", args=[self.letter.slug]))
        expect(page.get_by_role("link", name="Profession number 15")).to_be_hidden()
        first = page.locator(".signatory-name").first
        box = first.bounding_box()
        assert box["y"] + box["height"] <= 844, box
        # Opening the disclosure shows them all.
        page.get_by_text("Filter by profession").click()
        expect(page.get_by_role("link", name="Profession number 15")).to_be_visible()

    def test_the_withdrawal_email_field_is_a_full_size_target(self):
        page = self.new_page()
        page.goto(reverse("signatures:withdraw_request", args=[self.letter.slug]))
        box = page.get_by_label("Your email address").bounding_box()
        assert box["height"] >= 44, box
        assert box["width"] >= 300, box

    def test_the_native_share_button_shows_only_where_the_browser_can_share(self):
        page = self.new_page()
        page.goto(self.letter.get_absolute_url())
        can_share = page.evaluate("typeof navigator.share === 'function'")
        button = page.get_by_role("button", name="Share…")
        if can_share:
            expect(button).to_be_visible()
        else:
            expect(button).to_be_hidden()
        without_script = self.new_page(javascript=False)
        without_script.goto(self.letter.get_absolute_url())
        expect(without_script.get_by_role("button", name="Share…")).to_be_hidden()
        expect(without_script.get_by_role("link", name="WhatsApp")).to_be_visible()

"""
The moderation queue in a real browser: it fits a 1280x800 screen and a
390x844 phone without scrolling sideways, the hold badge and its match are
on screen, and the keyboard alone verifies, approves and marks notable.
"""

from __future__ import annotations

from playwright.sync_api import expect

from signatures.models import Signature
from tests.browser.base import BrowserTestCase
from tests.factories import make_staff
from tests.pages import moderation_pages, seed_demo_letter, seed_moderation_queue

SCREEN = {"viewport": {"width": 1280, "height": 800}, "reduced_motion": "reduce"}


def log_in(page, username: str) -> None:
    page.goto("/admin/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("a-long-test-password")
    page.locator("input[type=submit], button[type=submit]").first.click()
    page.wait_for_url("**/admin/")


def scrolls_sideways(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth > document.documentElement.clientWidth")


class ModerationQueueBrowserTests(BrowserTestCase):
    def setUp(self):
        self.letter = seed_demo_letter()
        self.queue = seed_moderation_queue(self.letter)
        make_staff("organizer")

    def test_the_queue_fits_a_laptop_and_a_phone_with_the_hold_badge_in_view(self):
        for label, size in (("1280x800", SCREEN), ("390x844", {})):
            page = self.new_page(**size)
            log_in(page, "organizer")
            for item in moderation_pages(self.letter)[:2]:
                page.goto(item.path)
                assert not scrolls_sideways(page), f"{item.name} scrolls sideways at {label}"
                badge = page.locator(".hold-badge.hold-watchlist").first
                expect(badge).to_be_in_viewport()
                expect(page.get_by_text("possible match for Sam Altman: Cyrillic letters")).to_be_visible()
                # The name and the action menu are there on every size.
                expect(page.get_by_role("link", name="Ѕаm Аltmаn")).to_be_visible()  # noqa: RUF001
                expect(page.locator("select[name=action]").first).to_be_visible()
            # Held names first: the first row is a possible impersonation.
            first_row = page.locator("#result_list tbody tr").first
            expect(first_row.locator(".hold-watchlist")).to_have_count(1)

    def test_the_keyboard_verifies_approves_and_marks_notable(self):
        page = self.new_page(**SCREEN)
        log_in(page, "organizer")
        page.goto(moderation_pages(self.letter)[1].path)
        expect(page.get_by_text("Keyboard shortcuts")).to_be_visible()
        target = page.locator("#result_list tbody tr").nth(3)
        name = target.locator("th a").inner_text()
        for key in ("j", "j", "j", "j", "x", "v"):
            page.keyboard.press(key)
        page.get_by_label("Known personally to the organizers").check()
        page.get_by_role("button", name="Yes, verified: approve and mark notable").click()
        expect(page.get_by_text("1 signature verified, approved and marked notable.")).to_be_visible()
        signature = Signature.objects.get(letter=self.letter, full_name=name)
        assert signature.state == Signature.State.APPROVED
        assert signature.is_verified
        assert signature.is_notable
        assert signature.verification_method == Signature.VerificationMethod.KNOWN_TO_ORGANIZERS

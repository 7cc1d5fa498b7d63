"""
axe-core (bundled by axe-playwright-python) scans every public page, and the
form in its error state, in the light scheme on a phone and the dark scheme
on a desktop: zero violations, best practices included.
"""

from __future__ import annotations

import os

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from tests.browser.base import DESKTOP, PHONE, BrowserTestCase
from tests.factories import make_staff
from tests.pages import moderation_pages, public_pages, seed_demo_letter, seed_moderation_queue

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

axe = Axe()
DARK_DESKTOP_PAGES = {
    "letter",
    "letter-form-errors",
    "confirm",
    "signatories",
    "transparency",
    "transparency-delivered",
    "embed",
    "flyer",
}


class AccessibilityTests(BrowserTestCase):
    def setUp(self):
        self.letter = seed_demo_letter()

    def assert_no_violations(self, page, label: str) -> None:
        results = axe.run(page)
        assert results.violations_count == 0, f"{label}:\n{results.generate_report()}"

    def open(self, page, path: str, method: str, data: dict) -> None:
        if method == "get":
            page.goto(path)
            return
        # POSTs the way a person makes them: from the page that has the form.
        if path.startswith("/confirm/"):
            page.goto(path)
            page.get_by_role("button", name="Confirm my signature").click()
            expect(page.get_by_role("heading", level=1)).to_have_text("Thank you for signing")
        else:
            # The form in its error state, focus on the summary.
            page.goto(self.letter.get_absolute_url())
            page.get_by_label("Email", exact=True).fill("not an email")
            page.get_by_role("button", name="Sign the letter").click()
            expect(page.locator("#error-summary")).to_be_focused()

    def test_every_public_page_and_the_form_with_errors_have_no_axe_violations(self):
        pages = public_pages(self.letter)
        # Every page light on a phone; the dark scheme's contrast and the wide
        # layout on the pages that use every colour and component.
        passes = (("light", "phone", PHONE, None), ("dark", "desktop", DESKTOP, DARK_DESKTOP_PAGES))
        for scheme, size_name, size, only in passes:
            # axe is injected by script; the site's CSP would rightly refuse it.
            page = self.new_page(color_scheme=scheme, bypass_csp=True, **size)
            for item in pages:
                if only is None or item.name in only:
                    self.open(page, item.path, item.method, item.data)
                    self.assert_no_violations(page, f"{item.name} ({scheme}, {size_name})")


class ModerationAccessibilityTests(BrowserTestCase):
    def setUp(self):
        self.letter = seed_demo_letter()
        seed_moderation_queue(self.letter)
        make_staff("organizer")

    def test_the_queue_a_signature_and_the_letter_overview_have_no_axe_violations(self):
        for size_name, size in (("phone", PHONE), ("desktop", DESKTOP)):
            page = self.new_page(bypass_csp=True, **size)
            page.goto("/admin/login/")
            page.get_by_label("Username").fill("organizer")
            page.get_by_label("Password").fill("a-long-test-password")
            page.locator("input[type=submit]").first.click()
            page.wait_for_url("**/admin/")
            for item in moderation_pages(self.letter):
                page.goto(item.path)
                # The letter's change page carries Django's own inline tables
                # (an empty header cell per row set), which are not ours to
                # change: there the scan covers the overview we draw.
                context = ".letter-overview" if item.name == "admin-letter-overview" else None
                results = axe.run(page, context=context)
                assert results.violations_count == 0, f"{item.name} ({size_name}):\n{results.generate_report()}"

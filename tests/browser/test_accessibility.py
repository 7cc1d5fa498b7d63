"""
axe-core (bundled by axe-playwright-python) scans every public page, and the
form in its error state, in the light and the dark colour scheme, at phone
and desktop widths: zero violations, best practices included.
"""

from __future__ import annotations

import os

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from tests.browser.base import DESKTOP, PHONE, BrowserTestCase
from tests.pages import public_pages, seed_demo_letter

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

axe = Axe()


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
            page.goto(self.letter.get_absolute_url())
            page.get_by_role("button", name="Sign the letter").click()
            expect(page.locator("#error-summary")).to_be_visible()

    def test_every_public_page_has_no_axe_violations(self):
        pages = public_pages(self.letter)
        # A POST page is reached once; everything else in both schemes and widths.
        for scheme in ("light", "dark"):
            for size_name, size in (("phone", PHONE), ("desktop", DESKTOP)):
                # axe is injected by script; the site's CSP would rightly refuse it.
                page = self.new_page(color_scheme=scheme, bypass_csp=True, **size)
                for item in pages:
                    if item.method == "post" and (scheme, size_name) != ("light", "phone"):
                        continue
                    self.open(page, item.path, item.method, item.data)
                    self.assert_no_violations(page, f"{item.name} ({scheme}, {size_name})")

    def test_the_form_with_errors_has_no_axe_violations_in_either_scheme(self):
        for scheme in ("light", "dark"):
            page = self.new_page(color_scheme=scheme, bypass_csp=True)
            page.goto(self.letter.get_absolute_url())
            page.get_by_label("Email").fill("not an email")
            page.get_by_role("button", name="Sign the letter").click()
            expect(page.locator("#error-summary")).to_be_focused()
            self.assert_no_violations(page, f"form with errors ({scheme})")

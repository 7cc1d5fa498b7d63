"""
The whole flow in a real browser on a phone-sized screen: read the letter,
sign, get the email, follow its link, press confirm, then a moderator
approves in the admin and the name is on the letter. Once with JavaScript
and once without.
"""

from __future__ import annotations

import os
import re
from urllib.parse import urlsplit

from playwright.sync_api import expect

from signatures.models import Signature
from tests.browser.base import BrowserTestCase
from tests.factories import make_letter, make_signature, make_staff
from tests.helpers import links_in

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


class SigningFlowInBrowserTests(BrowserTestCase):
    def setUp(self):
        self.letter = make_letter(
            title="Our work is not your training data",
            addressee="The Minister for Culture",
            summary="Uphold copyright.",
            body="We ask you to **act**.\n\n1. Uphold copyright.\n2. Require consent.",
            goal=100,
        )
        make_staff("moderator")

    def sign_confirm_and_approve(self, *, javascript: bool, name: str, email: str) -> None:
        page = self.new_page(javascript=javascript)

        # Read: the letter, whom it is to, the count and the goal.
        page.goto(self.letter.get_absolute_url())
        expect(page.get_by_role("heading", level=1)).to_have_text(self.letter.title)
        expect(page.get_by_text("The Minister for Culture")).to_be_visible()
        expect(page.locator(".count")).to_contain_text("0 signatures")
        expect(page.get_by_text("0% of a goal of 100")).to_be_visible()

        # Sign.
        page.get_by_label("Full name").fill(name)
        page.get_by_label("Email", exact=True).fill(email)
        page.get_by_label("Profession").select_option(label="Composer")
        page.get_by_label("Show my name on the public list of signatories").check()
        page.get_by_role("button", name="Sign the letter").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")

        # The email, and the link in it, followed the way a person would.
        message = self.wait_for_email(email)
        [link] = [link for link in links_in(message) if "/confirm/" in link]
        page.goto(urlsplit(link).path)
        expect(page.get_by_role("heading", level=1)).to_have_text("Confirm your signature")
        page.get_by_role("button", name="Confirm my signature").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Thank you for signing")

        # Not public until a moderator approves.
        page.goto(self.letter.get_absolute_url())
        expect(page.locator(".signatory-list")).to_have_count(0)

        # The moderator logs in and approves.
        admin = self.new_page(javascript=javascript)
        admin.goto("/admin/")
        admin.get_by_label("Username").fill("moderator")
        admin.get_by_label("Password").fill("a-long-test-password")
        admin.get_by_role("button", name=re.compile("Log in", re.IGNORECASE)).click()
        admin.goto("/admin/signatures/signature/")  # opens on the moderation queue
        row = admin.locator("#result_list tbody tr", has_text=name)
        row.locator("input[name=_selected_action]").check()
        admin.locator("select[name=action]").first.select_option(label="Approve selected signatures")
        admin.locator("button[name=index], input[name=index]").first.click()
        expect(admin.locator(".messagelist")).to_contain_text("approved")

        # The name is listed and counted.
        page.goto(self.letter.get_absolute_url())
        expect(page.locator(".signatory-list")).to_contain_text(name)
        expect(page.locator(".count")).to_contain_text("1 signature")
        expect(page.get_by_text("1% of a goal of 100")).to_be_visible()
        assert [p for p in self.console_problems if "Content Security Policy" in p] == []

    def test_a_signer_on_a_phone_signs_confirms_and_is_listed_once_approved(self):
        self.sign_confirm_and_approve(javascript=True, name="Agnès Varda", email="agnes@example.org")

    def test_the_same_flow_works_with_javascript_turned_off(self):
        self.sign_confirm_and_approve(javascript=False, name="Chantal Akerman", email="chantal@example.org")


class SignFormInBrowserTests(BrowserTestCase):
    def setUp(self):
        self.letter = make_letter()

    def test_errors_are_summarised_focused_and_linked_to_their_fields(self):
        for javascript in (True, False):
            page = self.new_page(javascript=javascript)
            page.goto(self.letter.get_absolute_url())
            page.get_by_label("Email", exact=True).fill("not an email")
            page.get_by_role("button", name="Sign the letter").click()

            summary = page.locator("#error-summary")
            expect(summary).to_be_focused()
            expect(summary).to_contain_text("There is a problem")
            assert page.title().startswith("Error:")

            name = page.get_by_label("Full name")
            expect(name).to_have_attribute("aria-invalid", "true")
            described_by = name.get_attribute("aria-describedby").split()
            assert "id_full_name_error" in described_by
            expect(page.locator("#id_full_name_error")).to_contain_text("This field is required.")

            summary.get_by_role("link", name=re.compile("Full name")).click()
            expect(name).to_be_focused()

    def test_a_field_left_empty_is_flagged_when_the_signer_moves_on(self):
        page = self.new_page()
        page.goto(self.letter.get_absolute_url())
        email = page.get_by_label("Email", exact=True)
        email.fill("agnes@")
        email.blur()
        expect(email).to_have_attribute("aria-invalid", "true")
        expect(page.locator("#id_email_error")).to_contain_text("Enter a valid email address.")
        email.fill("agnes@example.org")
        email.blur()
        expect(page.locator("#id_email_error")).to_have_count(0)
        expect(email).not_to_have_attribute("aria-invalid", "true")

    def test_the_copy_link_button_appears_only_with_javascript_and_copies_the_link(self):
        page = self.new_page(permissions=["clipboard-read", "clipboard-write"])
        page.goto(self.letter.get_absolute_url())
        page.get_by_role("button", name="Copy link").click()
        expect(page.get_by_role("status")).to_have_text("Link copied")
        assert page.evaluate("navigator.clipboard.readText()").endswith(self.letter.get_absolute_url())

        without_script = self.new_page(javascript=False)
        without_script.goto(self.letter.get_absolute_url())
        expect(without_script.get_by_role("button", name="Copy link")).to_be_hidden()
        expect(without_script.get_by_label("Or copy this link:")).to_have_value(re.compile(self.letter.slug))

    def test_the_language_switcher_works_without_javascript(self):
        page = self.new_page(javascript=False)
        page.goto(self.letter.get_absolute_url())
        page.get_by_role("button", name="Español").click()
        expect(page.locator("html")).to_have_attribute("lang", "es")
        expect(page.get_by_role("button", name="Firmar la carta")).to_be_visible()
        assert urlsplit(page.url).path == self.letter.get_absolute_url()

    def test_the_count_refreshes_itself_while_the_page_is_open(self):
        page = self.new_page()
        page.clock.install()
        page.goto(self.letter.get_absolute_url())
        expect(page.locator(".count")).to_contain_text("0 signatures")
        make_signature(self.letter, Signature.State.APPROVED)
        page.clock.fast_forward(31_000)
        expect(page.locator(".count strong")).to_have_text("1")
        expect(page.locator(".count")).to_have_text(re.compile(r"^\s*1 signature\s*$"))

    def test_the_letter_page_weighs_under_100_kb(self):
        page = self.new_page()
        transferred = []
        page.on("requestfinished", lambda request: transferred.append(request.sizes()["responseBodySize"]))
        page.goto(self.letter.get_absolute_url(), wait_until="networkidle")
        # HTML, CSS, script and icon, uncompressed: whitenoise compresses them further in production.
        assert 0 < sum(transferred) < 100_000, transferred

    def test_printing_the_letter_shows_the_text_and_signatories_without_the_form(self):
        letter = make_letter(title="Printed letter")
        make_signature(letter, Signature.State.APPROVED, full_name="Agnès Varda")
        page = self.new_page()
        page.emulate_media(media="print")
        page.goto(letter.get_absolute_url())
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        expect(page.locator(".letter-body")).to_be_visible()
        expect(page.get_by_text("Agnès Varda")).to_be_visible()
        for hidden in (".sign-form", ".share", ".language-switcher"):
            expect(page.locator(hidden)).to_be_hidden()

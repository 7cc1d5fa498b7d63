"""
In a real browser: an invitee signs a letter still in its founding phase
through a private link while its public address is a 404, confirms by email,
is approved, and is listed first as a founding signatory once an organizer
launches the letter. And the verified mark opens with the keyboard alone.
"""

from __future__ import annotations

import os
import re
from urllib.parse import urlsplit

from playwright.sync_api import expect

from signatures import services
from signatures.models import Letter, Signature
from signatures.tokens import make_invitation_token
from tests.browser.base import BrowserTestCase
from tests.factories import make_letter, make_signature, make_staff
from tests.helpers import links_in

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


class FoundingFlowInBrowserTests(BrowserTestCase):
    def setUp(self):
        self.letter = make_letter(
            title="Before the launch",
            status=Letter.Status.FOUNDING,
            body="We ask you to **act**.",
        )
        invitation = services.create_invitation(letter=self.letter, label="Agnès", created_by=None, max_uses=1)
        self.invitation_path = f"/invitation/{make_invitation_token(invitation)}/"
        make_staff("organizer")

    def log_in(self, page) -> None:
        page.goto("/admin/")
        page.get_by_label("Username").fill("organizer")
        page.get_by_label("Password").fill("a-long-test-password")
        page.get_by_role("button", name=re.compile("Log in", re.IGNORECASE)).click()

    def run_admin_action(self, page, url: str, row_text: str, action_label: str) -> None:
        page.goto(url)
        page.locator("#result_list tbody tr", has_text=row_text).locator("input[name=_selected_action]").check()
        page.locator("select[name=action]").first.select_option(label=action_label)
        page.locator("button[name=index], input[name=index]").first.click()

    def invitation_only_signature_through_to_launch(self, *, javascript: bool) -> None:
        visitor = self.new_page(javascript=javascript)
        response = visitor.goto(self.letter.get_absolute_url())
        assert response.status == 404

        # The invitee reads and signs through the private link.
        invitee = self.new_page(javascript=javascript)
        invitee.goto(self.invitation_path)
        expect(invitee.get_by_role("heading", level=1)).to_have_text("Before the launch")
        expect(invitee.get_by_text("founding signatory, before it is published")).to_be_visible()
        invitee.get_by_label("Full name").fill("Agnès Varda")
        invitee.get_by_label("Email", exact=True).fill("agnes@example.org")
        invitee.get_by_label("Profession").select_option(label="Director")
        invitee.get_by_label("Show my name on the public list of signatories").check()
        invitee.get_by_role("button", name="Sign the letter").click()
        expect(invitee.get_by_role("heading", level=1)).to_have_text("Check your email")

        message = self.wait_for_email("agnes@example.org")
        [link] = [link for link in links_in(message) if "/confirm/" in link]
        invitee.goto(urlsplit(link).path)
        invitee.get_by_role("button", name="Confirm my signature").click()
        expect(invitee.get_by_role("heading", level=1)).to_have_text("Thank you for signing")

        # Moderated like everyone else; still embargoed.
        organizer = self.new_page(javascript=javascript)
        self.log_in(organizer)
        self.run_admin_action(
            organizer,
            "/admin/signatures/signature/?state__exact=confirmed",
            "Agnès Varda",
            "Approve selected signatures",
        )
        expect(organizer.locator(".messagelist")).to_contain_text("approved")
        organizer.goto("/admin/signatures/letter/")
        expect(organizer.locator("#result_list")).to_contain_text("0 confirmed, 1 approved")
        assert visitor.goto(self.letter.get_absolute_url()).status == 404

        # Launch: public, founding signatory listed.
        self.run_admin_action(
            organizer, "/admin/signatures/letter/", "Before the launch", "Launch now (make founding letters public)"
        )
        expect(organizer.locator(".messagelist")).to_contain_text("Launched 1 letter")
        response = visitor.goto(self.letter.get_absolute_url())
        assert response.status == 200
        listed = visitor.locator(".signatory", has_text="Agnès Varda")
        expect(listed).to_contain_text("founding signatory")
        expect(visitor.locator(".count")).to_contain_text("1 signature")

        # The invitation now leads to the public letter.
        invitee.goto(self.invitation_path)
        assert urlsplit(invitee.url).path == self.letter.get_absolute_url()
        assert Signature.objects.get().is_founding

    def test_an_invitation_only_signature_goes_through_to_public_launch(self):
        # Without JavaScript, the stricter case; the signing flow tests cover both.
        self.invitation_only_signature_through_to_launch(javascript=False)


class VerifiedMarkInBrowserTests(BrowserTestCase):
    def setUp(self):
        self.letter = make_letter()
        signature = make_signature(self.letter, Signature.State.APPROVED, full_name="Verified Composer")
        services.mark_notable(signature_ids=[signature.pk], moderator=None)
        services.mark_verified(
            signature_ids=[signature.pk], moderator=None, method=Signature.VerificationMethod.KNOWN_TO_ORGANIZERS
        )

    def test_the_verification_method_opens_with_the_keyboard_without_javascript(self):
        page = self.new_page(javascript=False, is_mobile=False, has_touch=False)
        page.goto(self.letter.get_absolute_url())
        method = page.get_by_text("Known personally to the organizers").first
        expect(method).to_be_hidden()
        summary = page.locator("details.verified summary").first
        summary.focus()
        expect(summary).to_be_focused()
        page.keyboard.press("Enter")
        expect(method).to_be_visible()

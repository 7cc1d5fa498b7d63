"""
Text versions bound to signatures: every published text is kept with its
hash, a signature records the version its signer saw, and a major revision
asks earlier signers to re-affirm or withdraw (GET changes nothing, POST acts).
"""

from __future__ import annotations

import pytest
from django.core import mail
from django.test import TestCase, override_settings
from django.urls import reverse

from signatures import services
from signatures.models import Letter, LetterVersion, Signature
from tests.factories import make_letter, make_signature, make_staff, sign_data
from tests.helpers import emails_to, path_of_link


def edit_text(letter: Letter, body: str) -> Letter:
    """An organizer saves a new body in the admin (published only when they say so)."""
    letter.body = body
    letter.save()
    return letter


class SignatureRecordsItsVersionTests(TestCase):
    def test_a_signature_records_the_version_its_signer_saw(self):
        letter = make_letter(body="First text.")
        with self.captureOnCommitCallbacks(execute=True):
            self.client.post(reverse("signatures:sign", kwargs={"slug": letter.slug}), sign_data(letter))
        signature = Signature.objects.get()
        version = LetterVersion.objects.get(letter=letter)
        assert signature.version == version
        assert version.number == 1
        assert version.is_major
        assert version.body == "First text."
        assert version.content_hash == LetterVersion.hash_text(letter.title, "First text.")
        assert len(version.content_hash) == 64

        edit_text(letter, "First text, corrected.")
        services.publish_letter_version(letter=letter, is_major=False, note="Typo")
        with self.captureOnCommitCallbacks(execute=True):
            self.client.post(
                reverse("signatures:sign", kwargs={"slug": letter.slug}), sign_data(letter, email="b@example.org")
            )
        assert Signature.objects.get(email="b@example.org").version.number == 2

    def test_unpublished_edits_are_not_shown_to_readers(self):
        letter = make_letter(body="The published text.")
        services.ensure_letter_version(letter=letter)
        edit_text(letter, "A draft nobody should see yet.")
        page = self.client.get(letter.get_absolute_url())
        self.assertContains(page, "The published text.")
        self.assertNotContains(page, "A draft nobody should see yet.")

    def test_publishing_an_unchanged_text_is_refused(self):
        letter = make_letter()
        services.ensure_letter_version(letter=letter)
        with pytest.raises(services.NothingToPublish):
            services.publish_letter_version(letter=letter, is_major=True, note="")

    def test_versions_cannot_be_changed_or_deleted_in_the_admin(self):
        letter = make_letter()
        version = services.ensure_letter_version(letter=letter)
        self.client.force_login(make_staff())
        url = reverse("admin:signatures_letterversion_change", args=[version.pk])
        self.client.post(url, {"body": "Tampered", "content_hash": "0" * 64})
        version.refresh_from_db()
        assert version.body == letter.body
        delete = reverse("admin:signatures_letterversion_delete", args=[version.pk])
        assert self.client.post(delete, {"post": "yes"}).status_code == 403
        assert LetterVersion.objects.filter(pk=version.pk).exists()


class RevisionTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.letter = make_letter(body="We ask you to act.\n\nUphold copyright.")
        first = services.ensure_letter_version(letter=cls.letter)
        cls.approved = make_signature(
            cls.letter,
            Signature.State.APPROVED,
            full_name="Approved Person",
            email="approved@example.org",
            version=first,
        )
        cls.confirmed = make_signature(
            cls.letter,
            Signature.State.CONFIRMED,
            full_name="Waiting Person",
            email="waiting@example.org",
            version=first,
        )
        cls.rejected = make_signature(
            cls.letter, Signature.State.REJECTED, email="rejected@example.org", version=first
        )
        for signature in (cls.approved, cls.confirmed, cls.rejected):
            assert signature.version.number == 1

    def publish(self, body: str, *, is_major: bool, note: str = ""):
        edit_text(self.letter, body)
        with self.captureOnCommitCallbacks(execute=True):
            return services.publish_letter_version(letter=self.letter, is_major=is_major, note=note)

    def test_a_minor_revision_asks_nobody_anything(self):
        self.publish("We ask you to act.\n\nUphold copyright!", is_major=False, note="Punctuation")
        assert not Signature.objects.filter(needs_reaffirmation=True).exists()
        assert mail.outbox == []

    def test_a_major_revision_flags_earlier_signers_and_emails_them_the_difference(self):
        version = self.publish(
            "We ask you to act.\n\nUphold copyright and require consent.", is_major=True, note="Added consent"
        )
        assert version.number == 2
        flagged = set(Signature.objects.filter(needs_reaffirmation=True).values_list("pk", flat=True))
        assert flagged == {self.approved.pk, self.confirmed.pk}
        assert {address for message in mail.outbox for address in message.to} == {
            "approved@example.org",
            "waiting@example.org",
        }
        [message] = emails_to("approved@example.org")
        assert "has changed" in message.subject
        assert "-Uphold copyright." in message.body
        assert "+Uphold copyright and require consent." in message.body
        assert "Added consent" in message.body
        html, _mimetype = message.alternatives[0]
        assert "<ins" in html
        assert "<del" in html
        path_of_link(message, "/reaffirm/")
        path_of_link(message, "/withdraw/")

        # Signatures on the new major text are not flagged by it.
        newcomer = make_signature(self.letter, Signature.State.APPROVED, version=self.letter.current_version)
        assert newcomer.version == version
        assert not newcomer.needs_reaffirmation

    def test_re_affirming_takes_a_button_press(self):
        self.publish("A new demand.", is_major=True)
        [message] = emails_to("approved@example.org")
        path = path_of_link(message, "/reaffirm/")

        # Mail scanners fetch links: the GET shows the change and changes nothing.
        for _ in range(2):
            page = self.client.get(path)
            self.assertContains(page, "The text you signed has changed")
            self.assertContains(page, "A new demand.")
            self.assertContains(page, "Keep my signature on the new text")
            self.assertContains(page, "/withdraw/")
        self.approved.refresh_from_db()
        assert self.approved.needs_reaffirmation
        assert self.approved.version.number == 1

        response = self.client.post(path)
        self.assertContains(response, "Your signature stands")
        self.approved.refresh_from_db()
        assert not self.approved.needs_reaffirmation
        assert self.approved.version.number == 2
        assert self.approved.reaffirmed_at is not None
        assert self.approved.state == Signature.State.APPROVED

        # The link works once.
        self.assertContains(self.client.get(path), "This link no longer works", status_code=400)
        self.assertContains(self.client.post(path), "This link no longer works", status_code=400)

    def test_withdrawing_from_the_revision_email_takes_a_button_press(self):
        self.publish("A new demand.", is_major=True)
        [message] = emails_to("waiting@example.org")
        path = path_of_link(message, "/withdraw/")
        self.client.get(path)
        self.confirmed.refresh_from_db()
        assert self.confirmed.state == Signature.State.CONFIRMED

        self.client.post(path)
        self.confirmed.refresh_from_db()
        assert self.confirmed.state == Signature.State.WITHDRAWN

    def test_the_re_affirm_page_leads_to_withdrawal_too(self):
        self.publish("A new demand.", is_major=True)
        [message] = emails_to("approved@example.org")
        page = self.client.get(path_of_link(message, "/reaffirm/"))
        withdraw_path = page.context["withdraw_url"]
        self.client.post(withdraw_path)
        self.approved.refresh_from_db()
        assert self.approved.state == Signature.State.WITHDRAWN

    def test_a_newer_major_revision_replaces_the_old_link(self):
        self.publish("Second text.", is_major=True)
        [first] = emails_to("approved@example.org")
        self.publish("Third text.", is_major=True)
        assert len(emails_to("approved@example.org")) == 2
        self.assertContains(self.client.post(path_of_link(first, "/reaffirm/")), "no longer works", status_code=400)

    def test_the_organizer_publishes_a_major_revision_from_the_admin(self):
        organizer = make_staff()
        self.client.force_login(organizer)
        edit_text(self.letter, "We ask you to act now.\n\nUphold copyright.")
        url = reverse("admin:signatures_letter_publish_revision", args=[self.letter.pk])
        form = self.client.get(url)
        self.assertContains(form, "We ask you to act now.")
        with self.captureOnCommitCallbacks(execute=True):
            response = self.client.post(url, {"is_major": "1", "note": "Now, not later"})
        assert response.status_code == 302
        version = self.letter.versions.get(number=2)
        assert version.is_major
        assert version.published_by == organizer
        assert version.change_note == "Now, not later"
        assert len(mail.outbox) == 2


class ChangesLogTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.letter = make_letter(body="Original demand.")
        first = services.ensure_letter_version(letter=cls.letter)
        cls.first = make_signature(cls.letter, Signature.State.APPROVED, full_name="Early Signer", version=first)
        edit_text(cls.letter, "Original demand, corrected.")
        services.publish_letter_version(letter=cls.letter, is_major=False, note="Fixed a typo")
        edit_text(cls.letter, "A stronger demand.")
        third = services.publish_letter_version(letter=cls.letter, is_major=True, note="Stronger demand")
        cls.late = make_signature(cls.letter, Signature.State.APPROVED, full_name="Late Signer", version=third)

    def test_the_public_page_links_to_a_changes_log_with_every_version(self):
        page = self.client.get(self.letter.get_absolute_url())
        log_url = reverse("signatures:letter_versions", kwargs={"slug": self.letter.slug})
        self.assertContains(page, log_url)
        log = self.client.get(log_url)
        for text in ("Version 1", "Version 2", "Version 3", "Fixed a typo", "Stronger demand", "major revision"):
            self.assertContains(log, text)
        for version in self.letter.versions.all():
            self.assertContains(log, version.content_hash)
            detail = self.client.get(version.get_absolute_url())
            self.assertContains(detail, version.body_html, html=False)

    def test_a_version_page_shows_what_changed_from_the_one_before(self):
        detail = self.client.get(reverse("signatures:letter_version", args=[self.letter.slug, 3]))
        self.assertContains(detail, "Changes from version 2")
        self.assertContains(detail, "<del>", html=False)
        self.assertContains(detail, "A stronger demand.")

    def test_the_list_shows_which_version_each_person_signed(self):
        listing = self.client.get(reverse("signatures:signatories", kwargs={"slug": self.letter.slug}))
        html = listing.content.decode()
        early = html[html.index("Early Signer") :].split("</li>")[0]
        late = html[html.index("Late Signer") :].split("</li>")[0]
        assert "signed text v1" in early
        assert "signed text v3" in late

    def test_a_founding_letters_versions_are_not_public(self):
        letter = make_letter(status=Letter.Status.FOUNDING)
        services.ensure_letter_version(letter=letter)
        assert self.client.get(reverse("signatures:letter_versions", args=[letter.slug])).status_code == 404
        assert self.client.get(reverse("signatures:letter_version", args=[letter.slug, 1])).status_code == 404


LOCAL_CACHE = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "versions-queries"},
    "fallback": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "versions-queries-fb"},
}


# A process-local cache, so only the page's own database queries are counted.
@override_settings(CACHES=LOCAL_CACHE)
class VersionLabelCostTests(TestCase):
    def test_the_list_of_an_unrevised_letter_costs_no_extra_query(self):
        letter = make_letter()
        version = services.ensure_letter_version(letter=letter)
        for _ in range(3):
            make_signature(letter, Signature.State.APPROVED, version=version)
        url = reverse("signatures:signatories", kwargs={"slug": letter.slug})
        self.client.get(url)
        # The visitor's list-page limit, the letter, professions, counters, one page of rows, public questions.
        with self.assertNumQueries(6):
            page = self.client.get(url)
        self.assertNotContains(page, "signed text v")

    def test_a_revised_letter_adds_one_small_query_for_the_version_labels(self):
        letter = make_letter(body="One.")
        first = services.ensure_letter_version(letter=letter)
        make_signature(letter, Signature.State.APPROVED, version=first)
        edit_text(letter, "Two.")
        services.publish_letter_version(letter=letter, is_major=False)
        url = reverse("signatures:signatories", kwargs={"slug": letter.slug})
        self.client.get(url)
        with self.assertNumQueries(7):
            page = self.client.get(url)
        self.assertContains(page, "signed text v1")


class ReaffirmLinkLifetimeTests(TestCase):
    def test_a_signature_approved_after_the_email_can_still_be_re_affirmed(self):
        letter = make_letter(body="First.")
        first = services.ensure_letter_version(letter=letter)
        waiting = make_signature(letter, Signature.State.CONFIRMED, email="waiting@example.org", version=first)
        edit_text(letter, "Second.")
        with self.captureOnCommitCallbacks(execute=True):
            services.publish_letter_version(letter=letter, is_major=True)
        [message] = emails_to("waiting@example.org")
        services.approve_signatures(signature_ids=[waiting.pk], moderator=None)
        self.assertContains(self.client.post(path_of_link(message, "/reaffirm/")), "Your signature stands")

    def test_a_rejected_signature_cannot_be_re_affirmed(self):
        letter = make_letter(body="First.")
        first = services.ensure_letter_version(letter=letter)
        signature = make_signature(letter, Signature.State.APPROVED, email="fake@example.org", version=first)
        edit_text(letter, "Second.")
        with self.captureOnCommitCallbacks(execute=True):
            services.publish_letter_version(letter=letter, is_major=True)
        [message] = emails_to("fake@example.org")
        services.reject_signatures(signature_ids=[signature.pk], moderator=None)
        response = self.client.post(path_of_link(message, "/reaffirm/"))
        self.assertContains(response, "This link no longer works", status_code=400)
        signature.refresh_from_db()
        assert signature.state == Signature.State.REJECTED


class SignatureAdminVersionTests(TestCase):
    def test_a_signature_shows_its_version_and_the_queue_filters_by_re_affirmation(self):
        letter = make_letter(body="First.")
        first = services.ensure_letter_version(letter=letter)
        signature = make_signature(letter, Signature.State.APPROVED, full_name="Flagged Person", version=first)
        edit_text(letter, "Second.")
        second = services.publish_letter_version(letter=letter, is_major=True)
        make_signature(letter, Signature.State.CONFIRMED, full_name="Newer Person", version=second)
        self.client.force_login(make_staff())
        change = self.client.get(reverse("admin:signatures_signature_change", args=[signature.pk]))
        self.assertContains(change, f"v1 ({first.short_hash})")
        queue = self.client.get(
            reverse("admin:signatures_signature_changelist"), {"needs_reaffirmation__exact": "1", "status": "all"}
        )
        self.assertContains(queue, "Flagged Person")
        self.assertNotContains(queue, "Newer Person")

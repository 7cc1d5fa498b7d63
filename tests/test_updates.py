"""
Updates to signers: an unticked opt-in on the sign form, recorded with its
consent version; organizers write, test, publish and email an update; it
reaches each opted-in, confirmed signer exactly once, even across a crash
in the middle of sending; and every email carries an RFC 8058 one-click
unsubscribe that works without a CSRF token, while a GET changes nothing.
"""

from __future__ import annotations

from io import StringIO

from django.core import mail
from django.core.management import call_command
from django.test import Client, TestCase
from django.urls import reverse

from signatures import services
from signatures.models import LetterUpdate, OutgoingEmail, Signature
from signatures.tokens import Purpose, make_token
from tests.admin_helpers import run_action
from tests.factories import make_letter, make_signature, make_staff, sign_data
from tests.helpers import emails_to, path_of_link

State = Signature.State


def make_update(letter, **overrides) -> LetterUpdate:
    fields = {
        "letter": letter,
        "subject": "Delivered to the ministry",
        "body": "We handed the letter over on **Monday**.<script>alert(1)</script>",
    }
    fields.update(overrides)
    return LetterUpdate.objects.create(**fields)


class UpdatesOptInTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.letter = make_letter()

    def sign(self, **overrides):
        with self.captureOnCommitCallbacks(execute=True):
            return self.client.post(
                reverse("signatures:sign", kwargs={"slug": self.letter.slug}), sign_data(self.letter, **overrides)
            )

    def test_the_sign_form_offers_updates_unticked(self):
        page = self.client.get(self.letter.get_absolute_url()).content.decode()
        assert "Email me updates about this letter" in page
        box = page[page.index('name="wants_updates"') - 200 : page.index('name="wants_updates"') + 200]
        assert "checked" not in box

    def test_ticking_the_box_records_consent_with_its_version(self):
        self.sign(wants_updates="on")
        signature = Signature.objects.get(email_normalized="agnes@example.org")
        assert signature.wants_updates is True
        assert signature.updates_consent_at is not None
        assert signature.consent_version.startswith("1/")

    def test_leaving_it_unticked_records_no_consent(self):
        self.sign()
        signature = Signature.objects.get(email_normalized="agnes@example.org")
        assert signature.wants_updates is False
        assert signature.updates_consent_at is None


class SendingAnUpdateTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.letter = make_letter(title="Protect our work")
        cls.confirmed = make_signature(cls.letter, State.CONFIRMED, email="confirmed@example.org", wants_updates=True)
        cls.approved = make_signature(cls.letter, State.APPROVED, email="approved@example.org", wants_updates=True)
        cls.not_opted = make_signature(cls.letter, State.APPROVED, email="quiet@example.org")
        cls.unconfirmed = make_signature(cls.letter, State.SUBMITTED, email="pending@example.org", wants_updates=True)
        cls.rejected = make_signature(cls.letter, State.REJECTED, email="rejected@example.org", wants_updates=True)
        other = make_letter()
        cls.elsewhere = make_signature(other, State.APPROVED, email="elsewhere@example.org", wants_updates=True)
        cls.organizer = make_staff()

    def setUp(self):
        mail.outbox.clear()
        self.update = make_update(self.letter)

    def send(self):
        with self.captureOnCommitCallbacks(execute=True):
            services.request_letter_update_sending(update=self.update)

    def test_it_reaches_exactly_the_opted_in_confirmed_signers_once_each(self):
        self.send()
        assert sorted(address for message in mail.outbox for address in message.to) == [
            "approved@example.org",
            "confirmed@example.org",
        ]
        [message] = emails_to("approved@example.org")
        assert message.subject == "Delivered to the ministry"
        assert "Monday" in message.body
        html = message.alternatives[0].content
        assert "<strong>Monday</strong>" in html
        assert "<script>" not in html
        self.update.refresh_from_db()
        assert self.update.sent_at is not None
        # Asking again sends nothing more.
        self.send()
        assert len(mail.outbox) == 2

    def test_a_crash_mid_send_then_a_resume_sends_nobody_twice(self):
        more = [
            make_signature(self.letter, State.APPROVED, email=f"more{n}@example.org", wants_updates=True)
            for n in range(5)
        ]
        LetterUpdate.objects.filter(pk=self.update.pk).update(
            published_at=self.update.created_at, send_requested_at=self.update.created_at
        )
        with self.captureOnCommitCallbacks(execute=True):
            # The first run "dies" after three emails in batches of two.
            assert services.send_letter_update(update=self.update, limit=3, batch_size=2) == 3
        assert len(mail.outbox) == 3
        with self.captureOnCommitCallbacks(execute=True):
            call_command("send_letter_updates", stdout=StringIO())
        recipients = sorted(address for message in mail.outbox for address in message.to)
        expected = sorted(["approved@example.org", "confirmed@example.org", *(s.email for s in more)])
        assert recipients == expected
        assert OutgoingEmail.objects.filter(update=self.update).count() == len(expected)

    def test_each_email_carries_the_one_click_unsubscribe_headers_and_footer_link(self):
        self.send()
        [message] = emails_to("approved@example.org")
        sent = message.message()
        path = path_of_link(message, "/unsubscribe/")
        assert sent["List-Unsubscribe"].startswith("<http")
        assert sent["List-Unsubscribe"].endswith(f"{path}>")
        assert sent["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert path in message.alternatives[0].content

    def test_a_withdrawn_signer_gets_nothing(self):
        services.withdraw_signature(token=make_token(self.approved, Purpose.WITHDRAW))
        self.send()
        assert emails_to("approved@example.org") == []


class UnsubscribeTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.letter = make_letter(title="Protect our work")
        cls.signature = make_signature(cls.letter, State.APPROVED, email="approved@example.org", wants_updates=True)

    def setUp(self):
        # A client that enforces CSRF, as a real browser session and mail provider meet it.
        self.client = Client(enforce_csrf_checks=True)
        update = make_update(self.letter)
        with self.captureOnCommitCallbacks(execute=True):
            services.request_letter_update_sending(update=update)
        [message] = emails_to("approved@example.org")
        self.path = path_of_link(message, "/unsubscribe/")

    def wants_updates(self) -> bool:
        return Signature.objects.get(pk=self.signature.pk).wants_updates

    def test_get_shows_a_button_and_changes_nothing(self):
        page = self.client.get(self.path)
        self.assertContains(page, "Unsubscribe from updates")
        self.assertContains(page, 'method="post"')
        assert self.wants_updates() is True

    def test_the_one_click_post_without_csrf_token_unsubscribes_at_once(self):
        answer = self.client.post(
            self.path, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
        )
        assert answer.status_code == 200
        assert self.wants_updates() is False
        # A second click (the person after their mail client) still answers kindly.
        self.assertContains(self.client.post(self.path, {"List-Unsubscribe": "One-Click"}), "You are unsubscribed")

    def test_an_unsubscribed_signer_gets_no_later_update(self):
        self.client.post(self.path, {"List-Unsubscribe": "One-Click"})
        mail.outbox.clear()
        with self.captureOnCommitCallbacks(execute=True):
            services.request_letter_update_sending(update=make_update(self.letter, subject="Second news"))
        assert emails_to("approved@example.org") == []

    def test_a_forged_or_other_purpose_token_is_refused(self):
        withdraw_token = make_token(self.signature, Purpose.WITHDRAW)
        for token in ("not-a-token", withdraw_token):
            answer = self.client.post(reverse("signatures:unsubscribe", kwargs={"token": token}))
            assert answer.status_code == 400
        assert self.wants_updates() is True


class UpdatesInTheAdminTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.letter = make_letter(title="Protect our work")
        cls.signer = make_signature(cls.letter, State.APPROVED, email="approved@example.org", wants_updates=True)
        cls.organizer = make_staff()
        cls.changelist = reverse("admin:signatures_letterupdate_changelist")

    def setUp(self):
        self.client.force_login(self.organizer)

    def test_an_organizer_writes_and_previews_an_update(self):
        answer = self.client.post(
            reverse("admin:signatures_letterupdate_add"),
            {"letter": self.letter.pk, "subject": "Delivered", "body": "Handed over on **Monday**."},
        )
        assert answer.status_code == 302
        update = LetterUpdate.objects.get()
        assert update.created_by == self.organizer
        page = self.client.get(reverse("admin:signatures_letterupdate_change", args=[update.pk]))
        self.assertContains(page, "<strong>Monday</strong>", html=False)
        self.assertContains(page, "Not sent; 1 signer wants updates.")

    def test_a_test_goes_to_the_organizer_only(self):
        update = make_update(self.letter)
        run_action(self.client, "send_test", [update.pk], url=self.changelist)
        [message] = mail.outbox
        assert message.to == ["organizer@example.org"]
        assert message.subject == "[Test] Delivered to the ministry"
        assert LetterUpdate.objects.get(pk=update.pk).published_at is None

    def test_sending_publishes_emails_signers_and_shows_progress(self):
        update = make_update(self.letter)
        with self.captureOnCommitCallbacks(execute=True):
            run_action(self.client, "send_to_signers", [update.pk], url=self.changelist)
        assert [message.to for message in mail.outbox] == [["approved@example.org"]]
        self.assertContains(self.client.get(self.changelist), "1 queued (0 still to queue): 1 sent")


class UpdatesOnTheLetterPageTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.letter = make_letter()
        older = make_update(cls.letter, subject="Older news")
        newer = make_update(cls.letter, subject="Newer news")
        make_update(cls.letter, subject="A draft nobody sees")
        services.publish_letter_update(update=older)
        services.publish_letter_update(update=newer)

    def test_published_updates_show_under_the_letter_newest_first(self):
        page = self.client.get(self.letter.get_absolute_url()).content.decode()
        assert "A draft nobody sees" not in page
        assert page.index("Newer news") < page.index("Older news")
        assert "<strong>Monday</strong>" in page
        assert "<script>alert(1)" not in page

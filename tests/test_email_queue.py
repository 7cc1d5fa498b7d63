"""
Email that never loses a signature: every email is a row queued in the same
transaction as the signature, sent by the worker over real SMTP (aiosmtpd),
retried while the mail server is down, failed at once on a permanent refusal.
"""

from __future__ import annotations

import time
from datetime import timedelta
from io import StringIO
from unittest import mock
from urllib.parse import urlsplit

import pytest
import time_machine
from django.conf import settings
from django.core.management import call_command
from django.db import transaction
from django.test import TestCase, override_settings
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from signatures import emails, services
from signatures.models import Letter, OutgoingEmail, Signature
from tests.factories import make_letter, make_signature, make_staff, sign_data
from tests.helpers import LINK, deliver_queued_emails
from tests.ports import free_port
from tests.smtp import SmtpSink, database_queue, smtp_settings

Status = OutgoingEmail.Status


def sign(letter: Letter, email: str = "agnes@example.org", **overrides) -> None:
    fields = {"full_name": "Agnès Varda", "profession": letter.professions.first(), **overrides}
    services.sign_letter(letter=letter, email=email, **fields)


class QueueTestCase(TestCase):
    """Tests with the production task backend and a real SMTP server on a free port."""

    @classmethod
    def setUpTestData(cls):
        cls.letter = make_letter(title="Protect our work", sender_name="The Campaign")

    def setUp(self):
        self.enterContext(database_queue())
        self.port = free_port()
        self.enterContext(smtp_settings(self.port))

    def run_smtp(self, **options) -> SmtpSink:
        sink = SmtpSink(self.port, **options).start()
        self.addCleanup(sink.stop)
        return sink


@override_settings(SIGNATURES_REPLY_TO="team@campaign.example")
class DeliveryTests(QueueTestCase):
    def test_the_confirmation_email_arrives_over_smtp_with_both_parts_and_a_working_link(self):
        sink = self.run_smtp()
        sign(self.letter)
        assert sink.messages == []  # nothing is sent until the worker runs
        assert deliver_queued_emails() == 1

        [message] = sink.to("agnes@example.org")
        assert "Protect our work" in message["Subject"]
        assert message["From"].addresses[0].display_name == "The Campaign"
        assert message["Reply-To"] == "team@campaign.example"
        assert message["Auto-Submitted"] == "auto-generated"
        assert message["Date"]
        assert message["Message-ID"] == OutgoingEmail.objects.get().message_id
        assert message.get_content_type() == "multipart/alternative"
        text = message.get_body(("plain",)).get_content()
        html = message.get_body(("html",)).get_content()
        # No remote images or tracking: the only links are ours.
        assert "<img" not in html
        links = LINK.findall(html + text)
        assert links
        assert all(link.startswith(settings.SITE_URL) for link in links), links

        confirm_path = next(urlsplit(link).path for link in LINK.findall(text) if "/confirm/" in link)
        assert confirm_path in html
        self.assertContains(self.client.get(confirm_path), "Confirm my signature")
        assert Signature.objects.get().state == Signature.State.SUBMITTED
        self.client.post(confirm_path)
        assert Signature.objects.get().state == Signature.State.CONFIRMED

        email = OutgoingEmail.objects.get()
        assert email.status == Status.SENT
        assert email.attempts == 1
        assert email.sent_at is not None

    def test_a_name_carrying_a_bcc_header_adds_no_recipient_and_no_header(self):
        sink = self.run_smtp()
        self.letter.sender_name = "Campaign\r\nBcc: boss@evil.example"
        self.letter.title = "Protect\r\nBcc: list@evil.example"
        self.letter.save()
        # Stored through the service directly: the form would refuse the control characters.
        sign(self.letter, email="eve@example.org", full_name="Eve\r\nBcc: victim@evil.example")
        deliver_queued_emails()

        [envelope] = sink.envelopes
        assert envelope == ["eve@example.org"]
        [message] = sink.messages
        assert message["Bcc"] is None
        assert "evil.example" not in message["To"]
        raw = message.as_string()
        assert "\nBcc:" not in raw

    def test_every_message_names_the_letter_in_its_subject(self):
        sink = self.run_smtp()
        signature = make_signature(self.letter, Signature.State.APPROVED, email="public@example.org")
        with transaction.atomic():
            emails.send_already_signed(signature)
            emails.send_withdrawal_link(signature)
            emails.send_signature_public(signature)
        deliver_queued_emails()
        assert len(sink.messages) == 3
        for message in sink.messages:
            assert "Protect our work" in message["Subject"]
            assert message.get_body(("html",)) is not None


class BatchTests(QueueTestCase):
    def test_the_worker_sends_every_due_email_on_one_connection_one_row_each(self):
        sink = self.run_smtp()
        for n in range(5):
            sign(self.letter, email=f"signer{n}@example.org")
        assert deliver_queued_emails() == 5
        assert sorted(m["To"] for m in sink.messages) == [f"signer{n}@example.org" for n in range(5)]
        assert sink.connections == 1
        assert set(OutgoingEmail.objects.values_list("status", "attempts")) == {(Status.SENT, 1)}


class TransactionTests(QueueTestCase):
    def test_a_committed_signature_always_has_its_email_queued_and_nothing_else(self):
        sign(self.letter)
        signature = Signature.objects.get()
        email = OutgoingEmail.objects.get()
        assert email.signature == signature
        assert email.status == Status.QUEUED
        assert email.kind == OutgoingEmail.Kind.CONFIRM
        # The row is the queue: no task row beside it.
        assert not DBTaskResult.objects.exists()

    def test_a_rolled_back_signing_transaction_leaves_no_email(self):
        class Abort(Exception):
            pass

        def sign_then_fail():
            with transaction.atomic():
                sign(self.letter)
                assert OutgoingEmail.objects.count() == 1
                raise Abort

        with pytest.raises(Abort):
            sign_then_fail()
        assert not Signature.objects.exists()
        assert not OutgoingEmail.objects.exists()

    def test_if_the_email_cannot_be_queued_the_signature_is_not_stored_either(self):
        with (
            mock.patch.object(OutgoingEmail, "save", side_effect=RuntimeError("queue unavailable")),
            pytest.raises(RuntimeError),
        ):
            sign(self.letter)
        assert not Signature.objects.exists()
        assert not OutgoingEmail.objects.exists()


class MailServerDownTests(QueueTestCase):
    def test_signing_succeeds_the_email_waits_and_arrives_exactly_once_when_the_server_returns(self):
        # Nothing listens on the port: the mail server is down.
        sign(self.letter)
        assert Signature.objects.filter(state=Signature.State.SUBMITTED).count() == 1
        deliver_queued_emails()
        email = OutgoingEmail.objects.get()
        assert email.status == Status.QUEUED
        assert email.attempts == 1
        assert "Connection" in email.last_error or "refused" in email.last_error.lower()
        assert email.next_attempt_at > timezone.now()

        # Another try before the retry is due changes nothing.
        deliver_queued_emails()
        assert OutgoingEmail.objects.get().attempts == 1

        with time_machine.travel(timezone.now() + timedelta(minutes=5)):
            deliver_queued_emails()  # still down: a second failure, backing off further
        email.refresh_from_db()
        assert email.attempts == 2
        assert email.status == Status.QUEUED
        assert email.next_attempt_at - email.last_attempt_at > timedelta(seconds=100)

        sink = self.run_smtp()  # the server is back
        with time_machine.travel(timezone.now() + timedelta(minutes=30)):
            deliver_queued_emails()
            deliver_queued_emails()
        assert [m["To"] for m in sink.messages] == ["agnes@example.org"]
        email.refresh_from_db()
        assert email.status == Status.SENT
        assert email.attempts == 3
        assert Signature.objects.get().state == Signature.State.SUBMITTED

    @override_settings(SIGNATURES_EMAIL_MAX_ATTEMPTS=3)
    def test_retries_are_bounded_then_the_email_is_failed_and_an_organizer_can_retry_it(self):
        sign(self.letter)
        later = timezone.now()
        for _ in range(5):
            later += timedelta(hours=3)
            with time_machine.travel(later):
                deliver_queued_emails()
        email = OutgoingEmail.objects.get()
        assert email.status == Status.FAILED
        assert email.attempts == 3

        sink = self.run_smtp()
        self.client.force_login(make_staff())
        changelist = reverse("admin:signatures_outgoingemail_changelist")
        page = self.client.get(changelist, {"status__exact": "failed"})
        self.assertContains(page, "Confirm your signature")
        response = self.client.post(changelist, {"action": "retry", "_selected_action": [email.pk]})
        assert response.status_code == 302
        deliver_queued_emails()
        email.refresh_from_db()
        assert email.status == Status.SENT
        assert [m["Message-ID"] for m in sink.messages] == [email.message_id]


class PermanentRefusalTests(QueueTestCase):
    def test_a_550_for_one_address_fails_that_email_at_once_and_the_others_still_go(self):
        sink = self.run_smtp(refuse=("nobody@example.org",))
        sign(self.letter, email="first@example.org")
        sign(self.letter, email="nobody@example.org")
        sign(self.letter, email="last@example.org")
        deliver_queued_emails()

        refused = OutgoingEmail.objects.get(to_email="nobody@example.org")
        assert refused.status == Status.FAILED
        assert refused.attempts == 1
        assert "550" in refused.last_error
        assert "nobody@example.org" not in refused.last_error
        assert sorted(m["To"] for m in sink.messages) == ["first@example.org", "last@example.org"]

        # No endless retries: a day later nothing has been tried again.
        with time_machine.travel(timezone.now() + timedelta(days=1)):
            deliver_queued_emails()
        refused.refresh_from_db()
        assert refused.attempts == 1
        assert refused.status == Status.FAILED


class SlowMailServerTests(QueueTestCase):
    DELAY = 2.0

    def test_a_slow_mail_server_does_not_slow_the_sign_post(self):
        sink = self.run_smtp(delay=self.DELAY)
        url = reverse("signatures:sign", kwargs={"slug": self.letter.slug})
        started = time.monotonic()
        response = self.client.post(url, sign_data(self.letter))
        elapsed = time.monotonic() - started
        assert response.status_code == 302
        assert Signature.objects.count() == 1
        # No SMTP on the request path: the server has not even been spoken to.
        assert sink.mail_commands == 0
        assert elapsed < self.DELAY / 2, f"the sign POST took {elapsed:.2f}s"

        started = time.monotonic()
        deliver_queued_emails()
        assert time.monotonic() - started >= self.DELAY  # the worker is the one that waits
        assert len(sink.messages) == 1


class ClaimedByADeadWorkerTests(QueueTestCase):
    def test_an_email_claimed_by_a_worker_that_died_is_sent_again_with_the_same_message_id(self):
        sink = self.run_smtp()
        sign(self.letter)
        email = OutgoingEmail.objects.get()
        # A worker claimed it, then died before recording the outcome.
        OutgoingEmail.objects.filter(pk=email.pk).update(
            status=Status.SENDING, attempts=1, claimed_until=timezone.now() + timedelta(minutes=5)
        )
        deliver_queued_emails()
        assert sink.messages == []  # the claim still holds: that worker may yet finish

        with time_machine.travel(timezone.now() + timedelta(minutes=6)):
            deliver_queued_emails()
        assert sink.message_ids() == [email.message_id]
        email.refresh_from_db()
        assert email.status == Status.SENT
        assert email.attempts == 2

    def test_requeue_emails_is_a_harmless_no_op_now(self):
        sign(self.letter)
        out = StringIO()
        call_command("requeue_emails", stdout=out)
        assert "Nothing to requeue" in out.getvalue()
        assert OutgoingEmail.objects.get().status == Status.QUEUED

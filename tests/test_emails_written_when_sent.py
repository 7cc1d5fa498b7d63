"""
The emails a sign attempt queues are written by the worker, not the request:
the row has no subject or body until its first send, then keeps what was
sent, so a resend is the same message; withdrawal erases what was never sent.
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

import time_machine
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from signatures.models import Letter, OutgoingEmail, Signature
from signatures.tokens import Purpose, make_token
from tests.factories import sign_data
from tests.helpers import LINK, deliver_queued_emails
from tests.test_email_queue import QueueTestCase

Status = OutgoingEmail.Status


def lines(text: str) -> list[str]:
    # SMTP carries CRLF line ends; what is compared is the text.
    return text.strip().splitlines()


def confirm_path_in(text: str) -> str:
    return next(urlsplit(link).path for link in LINK.findall(text) if "/confirm/" in link)


class WrittenWhenFirstSentTests(QueueTestCase):
    def sign_through_the_form(self, letter: Letter, **overrides) -> None:
        response = self.client.post(
            reverse("signatures:sign", kwargs={"slug": letter.slug}), sign_data(letter, **overrides)
        )
        assert response.status_code == 302

    def test_an_email_queued_by_a_sign_post_has_no_body_until_the_worker_sends_it(self):
        sink = self.run_smtp()
        self.sign_through_the_form(self.letter)
        email = OutgoingEmail.objects.get()
        assert email.kind == OutgoingEmail.Kind.CONFIRM
        assert email.to_email == "agnes@example.org"
        assert email.message_id
        assert not email.is_written
        assert (email.subject, email.body_text, email.body_html) == ("", "", "")

        assert deliver_queued_emails() == 1
        [message] = sink.to("agnes@example.org")
        text = message.get_body(("plain",)).get_content()
        assert "Agnès Varda" in text
        assert self.letter.title in message["Subject"]
        email.refresh_from_db()
        assert email.is_written
        assert email.subject == message["Subject"]
        assert lines(email.body_text) == lines(text)

        # The link in it works the way a person uses it: the page shows a button, the button confirms.
        confirm_path = confirm_path_in(text)
        self.assertContains(self.client.get(confirm_path), '<form method="post"')
        self.client.post(confirm_path)
        assert Signature.objects.get().state in (Signature.State.CONFIRMED, Signature.State.APPROVED)

    def test_a_resend_after_a_failed_first_attempt_carries_the_same_message_id_and_the_same_bytes(self):
        self.sign_through_the_form(self.letter)
        deliver_queued_emails()  # the mail server is down: the first attempt fails
        email = OutgoingEmail.objects.get()
        assert email.status == Status.QUEUED
        assert email.attempts == 1
        assert email.is_written  # written at the first attempt, and kept
        written = (email.subject, email.body_text, email.body_html)

        # Later, with the letter renamed and another token second on the clock: nothing is written again.
        Letter.objects.filter(pk=self.letter.pk).update(title="A new title")
        sink = self.run_smtp()
        with time_machine.travel(timezone.now() + timedelta(minutes=30)):
            assert deliver_queued_emails() == 1
        [message] = sink.messages
        assert message["Message-ID"] == email.message_id
        assert message["Subject"] == written[0]
        assert lines(message.get_body(("plain",)).get_content()) == lines(written[1])
        assert lines(message.get_body(("html",)).get_content()) == lines(written[2])
        email.refresh_from_db()
        assert (email.subject, email.body_text, email.body_html) == written

    def test_the_confirm_link_is_good_for_its_days_from_when_the_email_is_sent(self):
        # An email that waited (held for a moderator, a mail budget) before its first send.
        self.sign_through_the_form(self.letter)
        sink = self.run_smtp()
        sent_at = timezone.now() + timedelta(days=settings.SIGNATURES_TOKEN_MAX_AGE_DAYS - 1)
        with time_machine.travel(sent_at):
            deliver_queued_emails()
        confirm_path = confirm_path_in(sink.messages[0].get_body(("plain",)).get_content())
        with time_machine.travel(sent_at + timedelta(days=settings.SIGNATURES_TOKEN_MAX_AGE_DAYS - 1)):
            self.client.post(confirm_path)
        assert Signature.objects.get().state in (Signature.State.CONFIRMED, Signature.State.APPROVED)

    def test_a_withdrawn_signatures_unsent_email_is_gone(self):
        sink = self.run_smtp()
        self.sign_through_the_form(self.letter)
        signature = Signature.objects.get()
        assert OutgoingEmail.objects.filter(signature=signature, is_written=False).exists()

        token = make_token(signature, Purpose.WITHDRAW)
        self.client.post(reverse("signatures:withdraw", kwargs={"token": token}))
        signature.refresh_from_db()
        assert signature.state == Signature.State.WITHDRAWN
        assert not OutgoingEmail.objects.filter(signature=signature).exists()
        deliver_queued_emails()
        assert sink.messages == []

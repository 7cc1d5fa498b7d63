"""
A sign request renders no email: the row it queues says what the email is
about (kind, signature, ids), and the worker draws subject, text and HTML when
it sends. What arrives is the same message, in the signer's language, with
links that work; an email queued with its text (before this change) is sent
as it was written.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.test import override_settings
from django.urls import reverse

from signatures import emails, outbox, services
from signatures.models import OutgoingEmail, Signature
from tests.factories import make_signature, sign_data
from tests.helpers import LINK, deliver_queued_emails
from tests.test_email_queue import QueueTestCase

Kind = OutgoingEmail.Kind


class RenderedWhenSentTests(QueueTestCase):
    def test_a_sign_post_queues_the_confirmation_without_drawing_any_template(self):
        self.run_smtp()
        url = reverse("signatures:sign", kwargs={"slug": self.letter.slug})
        response = self.client.post(url, sign_data(self.letter, email="agnes@example.org"))
        assert response.status_code == 302
        # The test client records every template drawn while the request ran.
        assert [t.name for t in response.templates] == []
        email = OutgoingEmail.objects.get()
        assert email.kind == Kind.CONFIRM
        assert (email.subject, email.body_text, email.body_html) == ("", "", "")
        assert email.to_email == "agnes@example.org"

    def test_the_worker_draws_the_email_and_its_confirm_link_works(self):
        sink = self.run_smtp()
        self.client.post(
            reverse("signatures:sign", kwargs={"slug": self.letter.slug}),
            sign_data(self.letter, email="agnes@example.org"),
        )
        assert deliver_queued_emails() == 1
        [message] = sink.to("agnes@example.org")
        assert message["Subject"] == "Confirm your signature: Protect our work"
        text = message.get_body(("plain",)).get_content()
        assert "Agnès Varda" in text
        confirm_path = next(urlsplit(link).path for link in LINK.findall(text) if "/confirm/" in link)
        self.client.post(confirm_path)
        assert Signature.objects.get().state == Signature.State.CONFIRMED

    def test_a_repeat_submit_gets_its_own_message_drawn_at_send_time(self):
        sink = self.run_smtp()
        make_signature(self.letter, Signature.State.APPROVED, email="signed@example.org")
        outcome = services.sign_letter(
            letter=self.letter,
            full_name="Agnès Varda",
            email="Signed@Example.org",
            profession=self.letter.professions.first(),
        )
        assert outcome == services.SignOutcome.ALREADY_SIGNED
        assert Signature.objects.filter(letter=self.letter).count() == 1
        deliver_queued_emails()
        [message] = sink.to("signed@example.org")
        assert "already signed" in message["Subject"]

    @override_settings(LANGUAGE_CODE="en")
    def test_the_email_is_drawn_in_the_signers_language(self):
        sink = self.run_smtp()
        services.sign_letter(
            letter=self.letter,
            full_name="Agnès Varda",
            email="agnes@example.org",
            profession=self.letter.professions.first(),
            language="fr",
        )
        deliver_queued_emails()
        [message] = sink.to("agnes@example.org")
        assert message["Subject"].startswith("Confirmez votre signature")

    def test_an_email_queued_with_its_text_is_sent_as_it_was_written(self):
        sink = self.run_smtp()
        signature = make_signature(self.letter, email="old@example.org")
        OutgoingEmail.objects.all().delete()
        email = OutgoingEmail(
            signature=signature,
            kind=Kind.CONFIRM,
            message_id=emails.new_message_id(),
            from_email=emails.from_address(self.letter),
            to_email=signature.email,
            subject="Written before the upgrade",
            body_text="The text as it was rendered then.",
            body_html="<p>The HTML as it was rendered then.</p>",
        )
        outbox.put(email)
        deliver_queued_emails()
        [message] = sink.to("old@example.org")
        assert message["Subject"] == "Written before the upgrade"
        assert message.get_body(("plain",)).get_content().strip() == "The text as it was rendered then."

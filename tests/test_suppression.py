"""
Mail that arrives: the provider's signed webhooks turn hard bounces and
complaints into a suppression list, forged ones are refused, and nothing
more is sent to a suppressed address (a confirmation resend, an update).
Mail goes through anymail's test backend, as it would through a provider.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

from django.core import mail
from django.test import TestCase, override_settings
from django.urls import reverse

from signatures import emails, outbox, services
from signatures.models import LetterUpdate, OutgoingEmail, Signature, SuppressedAddress
from tests.factories import make_letter, make_signature, make_staff, sign_data
from tests.helpers import emails_to

SIGNING_KEY = "mailgun-webhook-signing-key"
WEBHOOK_USER, WEBHOOK_PASSWORD = "mailgun", "webhook-password"
TRACKING_URL = "/anymail/mailgun/tracking/"


def mailgun_event(recipient: str, *, event: str = "failed", severity: str = "permanent", key: str = SIGNING_KEY):
    """A Mailgun tracking webhook body as Mailgun documents it, signed with HMAC-SHA256(timestamp + token)."""
    timestamp, token = str(int(time.time())), "a" * 50
    signature = hmac.new(key.encode(), f"{timestamp}{token}".encode(), hashlib.sha256).hexdigest()
    return {
        "signature": {"timestamp": timestamp, "token": token, "signature": signature},
        "event-data": {
            "event": event,
            "severity": severity,
            "id": "G9Bn5sl1TC6nu79C8C0bwg",
            "timestamp": time.time(),
            "recipient": recipient,
            "reason": "bounce",
            "message": {"headers": {"message-id": "20240101.1@mg.example.org"}},
            "delivery-status": {"code": 550, "message": "5.1.1 The email account does not exist."},
        },
    }


@override_settings(
    EMAIL_BACKEND="anymail.backends.test.EmailBackend",
    ANYMAIL_PROVIDER="mailgun",
    ANYMAIL={"MAILGUN_WEBHOOK_SIGNING_KEY": SIGNING_KEY, "WEBHOOK_SECRET": f"{WEBHOOK_USER}:{WEBHOOK_PASSWORD}"},
)
class MailgunWebhookTests(TestCase):
    def post(self, body, *, password=WEBHOOK_PASSWORD):
        return self.client.post(
            TRACKING_URL,
            json.dumps(body),
            content_type="application/json",
            headers={"Authorization": basic_auth(WEBHOOK_USER, password)},
        )

    def test_a_signed_hard_bounce_suppresses_the_address(self):
        assert self.post(mailgun_event("Gone@Example.org")).status_code == 200
        row = SuppressedAddress.objects.get()
        assert row.email_normalized == "gone@example.org"
        assert row.reason == SuppressedAddress.Reason.BOUNCED
        assert row.provider == "Mailgun"
        assert outbox.is_suppressed("gone@example.org")

    def test_a_complaint_suppresses_the_address(self):
        self.post(mailgun_event("angry@example.org", event="complained"))
        assert SuppressedAddress.objects.get().reason == SuppressedAddress.Reason.COMPLAINED

    def test_a_soft_bounce_changes_nothing(self):
        assert self.post(mailgun_event("full@example.org", severity="temporary")).status_code == 200
        assert not SuppressedAddress.objects.exists()

    def test_a_repeated_event_is_accepted_once(self):
        self.post(mailgun_event("gone@example.org"))
        assert self.post(mailgun_event("gone@example.org")).status_code == 200
        assert SuppressedAddress.objects.count() == 1

    def test_a_forged_signature_is_refused_and_changes_nothing(self):
        answer = self.post(mailgun_event("victim@example.org", key="not-the-key"))
        assert answer.status_code in (400, 403)
        assert not SuppressedAddress.objects.exists()

    def test_a_wrong_webhook_password_is_refused_and_changes_nothing(self):
        answer = self.post(mailgun_event("victim@example.org"), password="guess")
        assert answer.status_code in (400, 403)
        assert not SuppressedAddress.objects.exists()


class UnconfiguredWebhookTests(TestCase):
    @override_settings(ANYMAIL_PROVIDER="postmark")
    def test_without_secrets_a_providers_webhook_refuses_even_a_plausible_event(self):
        # Postmark's tracking webhook authenticates by basic auth only; none is configured here.
        body = {"RecordType": "Bounce", "Type": "HardBounce", "Email": "victim@example.org", "ID": 1}
        answer = self.client.post("/anymail/postmark/tracking/", json.dumps(body), content_type="application/json")
        assert answer.status_code in (400, 403)
        assert not SuppressedAddress.objects.exists()

    @override_settings(ANYMAIL_PROVIDER="postmark")
    def test_only_the_configured_providers_webhook_exists(self):
        assert self.client.post(TRACKING_URL, "{}", content_type="application/json").status_code == 404
        assert (
            self.client.post("/anymail/amazon_ses/inbound/", "{}", content_type="application/json").status_code == 404
        )


@override_settings(EMAIL_BACKEND="anymail.backends.test.EmailBackend")
class SuppressedAddressGetsNoMailTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.letter = make_letter()

    def suppress(self, email):
        services.suppress_address(email=email, reason=SuppressedAddress.Reason.BOUNCED, provider="Mailgun")

    def test_a_confirmation_resend_is_marked_suppressed_and_not_sent(self):
        url = reverse("signatures:sign", kwargs={"slug": self.letter.slug})
        with self.captureOnCommitCallbacks(execute=True):
            self.client.post(url, sign_data(self.letter))
        assert len(emails_to("agnes@example.org")) == 1
        self.suppress("agnes@example.org")
        mail.outbox.clear()
        with self.captureOnCommitCallbacks(execute=True):
            self.client.post(url, sign_data(self.letter))
        assert mail.outbox == []
        latest = OutgoingEmail.objects.order_by("-pk").first()
        assert latest.status == OutgoingEmail.Status.SUPPRESSED

    def test_an_email_queued_before_the_bounce_is_not_sent_after_it(self):
        queued = emails.send_confirmation(make_signature(self.letter, email="late@example.org"))
        # The bounce is recorded after the email was queued, and before a worker takes it.
        SuppressedAddress.objects.create(email_normalized="late@example.org", reason="bounced")
        assert outbox.deliver(queued.message_id) == outbox.SUPPRESSED
        assert mail.outbox == []
        assert OutgoingEmail.objects.get(pk=queued.pk).status == OutgoingEmail.Status.SUPPRESSED

    def test_an_update_skips_suppressed_signers(self):
        make_signature(self.letter, Signature.State.APPROVED, email="gone@example.org", wants_updates=True)
        make_signature(self.letter, Signature.State.APPROVED, email="here@example.org", wants_updates=True)
        self.suppress("gone@example.org")
        mail.outbox.clear()
        update = LetterUpdate.objects.create(letter=self.letter, subject="News", body="Delivered.")
        with self.captureOnCommitCallbacks(execute=True):
            services.request_letter_update_sending(update=update)
        assert [message.to for message in mail.outbox] == [["here@example.org"]]
        # Sent through anymail's backend, with the one-click headers.
        assert mail.outbox[0].anymail_status.status == {"sent"}
        assert mail.outbox[0].extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    def test_the_admin_lists_suppressed_addresses_and_why(self):
        self.suppress("gone@example.org")
        self.client.force_login(make_staff())
        page = self.client.get(reverse("admin:signatures_suppressedaddress_changelist"))
        self.assertContains(page, "gone@example.org")
        self.assertContains(page, "Hard bounce")
        email_page = self.client.get(reverse("admin:signatures_outgoingemail_changelist"), {"status": "suppressed"})
        assert email_page.status_code == 200


def basic_auth(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()

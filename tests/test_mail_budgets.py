"""
No mail for floods: a sign attempt over an abuse limit sends nothing until a
moderator releases it, and outgoing mail has budgets per client address, per
recipient domain and overall, whose excess is deferred, never dropped.
(The same, attacked over HTTP against a live gunicorn: tests/test_mail_flood.py.)
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine
from django.core import mail
from django.test import TestCase, override_settings
from django.urls import reverse

from signatures import outbox, services
from signatures.abuse import mail_budget
from signatures.models import OutgoingEmail, Signature
from tests.admin_helpers import changelist_url, make_moderator, run_action
from tests.factories import make_letter, make_signature, make_staff, sign_data
from tests.helpers import deliver_queued_emails, path_of_link
from tests.smtp import database_queue

Status = OutgoingEmail.Status
# A moment at the start of an hour, so every budget window starts with it.
NOON = datetime(2026, 6, 1, 12, 0, 0, tzinfo=UTC)
LIMITS_OFF = {
    "SIGNATURES_LIMIT_SIGN_IP_BURST": "0",
    "SIGNATURES_LIMIT_SIGN_IP_SUSTAINED": "0",
    "SIGNATURES_LIMIT_SIGN_DOMAIN": "0",
}


class SignTestCase(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.letter = make_letter(requires_moderation=False)
        cls.url = reverse("signatures:sign", kwargs={"slug": cls.letter.slug})
        cls.check_email = reverse("signatures:check_email", kwargs={"slug": cls.letter.slug})

    def sign(self, email: str, *, ip: str = "198.51.100.1"):
        with self.captureOnCommitCallbacks(execute=True):
            data = sign_data(self.letter, email=email, full_name=email.partition("@")[0].title())
            response = self.client.post(self.url, data, REMOTE_ADDR=ip)
        self.assertRedirects(response, self.check_email)
        return response

    def email_to(self, address: str) -> OutgoingEmail:
        return OutgoingEmail.objects.get(to_email=address)


@override_settings(SIGNATURES_LIMIT_SIGN_IP_BURST="1/3600", SIGNATURES_LIMIT_SIGN_IP_SUSTAINED="0")
class HeldMailTests(SignTestCase):
    def test_a_signature_over_the_ip_limit_is_kept_but_its_confirmation_is_held(self):
        self.sign("first@studio.example")
        self.sign("stranger@victim.example")
        assert [message.to for message in mail.outbox] == [["first@studio.example"]]
        held = Signature.objects.get(email_normalized="stranger@victim.example")
        assert held.hold_reason == Signature.HoldReason.IP_LIMIT
        assert self.email_to("stranger@victim.example").status == Status.HELD

    def test_the_worker_never_sends_held_mail(self):
        self.sign("first@studio.example")
        self.sign("stranger@victim.example")
        held = self.email_to("stranger@victim.example")
        with database_queue():
            assert outbox.deliver(held.message_id) == outbox.SKIPPED
            assert deliver_queued_emails() == 0
        assert self.email_to("stranger@victim.example").status == Status.HELD
        assert len(mail.outbox) == 1

    def test_a_known_address_over_the_limit_gets_held_mail_too(self):
        make_signature(self.letter, Signature.State.SUBMITTED, email="pending@victim.example")
        make_signature(self.letter, Signature.State.APPROVED, email="signed@victim.example")
        self.sign("first@studio.example")
        self.sign("pending@victim.example")
        self.sign("signed@victim.example")
        assert [message.to for message in mail.outbox] == [["first@studio.example"]]
        kinds = dict(OutgoingEmail.objects.held().values_list("to_email", "kind"))
        assert kinds == {
            "pending@victim.example": OutgoingEmail.Kind.CONFIRM,
            "signed@victim.example": OutgoingEmail.Kind.ALREADY_SIGNED,
        }

    def test_a_moderator_releases_held_confirmations_and_the_signature_stays_held_for_review(self):
        self.sign("first@studio.example")
        self.sign("colleague@studio.example")
        held = Signature.objects.get(email_normalized="colleague@studio.example")
        self.client.force_login(make_moderator())
        queue = self.client.get(changelist_url(status="held_mail"))
        self.assertContains(queue, "Colleague")
        self.assertNotContains(queue, "First")
        with self.captureOnCommitCallbacks(execute=True):
            response = run_action(
                self.client, "release_held_emails", [held.pk], url=changelist_url(status="held_mail")
            )
        assert response.status_code == 302
        assert self.client.get(response["Location"], follow=True).status_code == 200
        [message] = mail.outbox[1:]
        assert message.to == ["colleague@studio.example"]
        assert self.email_to("colleague@studio.example").status == Status.SENT
        # Confirming does not publish it: the letter approves at once, but not what tripped a limit.
        self.client.logout()
        self.client.post(path_of_link(message, "/confirm/"))
        held.refresh_from_db()
        assert held.state == Signature.State.CONFIRMED
        assert held.hold_reason == Signature.HoldReason.IP_LIMIT

    def test_the_letter_overview_counts_held_mail(self):
        self.sign("first@studio.example")
        self.sign("second@studio.example")
        self.sign("third@studio.example")
        self.client.force_login(make_staff())
        page = self.client.get(reverse("admin:signatures_letter_change", args=[self.letter.pk]))
        self.assertContains(page, "2 emails held back")
        self.assertContains(page, "status=held_mail")

    def test_the_outbox_admin_shows_held_mail(self):
        self.sign("first@studio.example")
        self.sign("second@studio.example")
        self.client.force_login(make_staff())
        page = self.client.get(reverse("admin:signatures_outgoingemail_changelist"), {"status__exact": "held"})
        self.assertContains(page, "Held for a moderator")
        assert page.context["cl"].result_count == 1

    def test_a_held_signer_never_released_is_purged_with_the_unconfirmed_signatures(self):
        confirmed = make_signature(self.letter, Signature.State.CONFIRMED, email="known@victim.example")
        self.sign("first@studio.example")
        self.sign("stranger@victim.example")
        self.sign("known@victim.example")
        assert OutgoingEmail.objects.held().count() == 2
        with time_machine.travel(datetime.now(tz=UTC) + timedelta(days=31)):
            done = services.purge_expired_signatures()
        assert not Signature.objects.filter(email_normalized="stranger@victim.example").exists()
        assert not OutgoingEmail.objects.held().exists()
        assert done["held_emails_deleted"] == 1  # the other went with its signature
        assert Signature.objects.filter(pk=confirmed.pk).exists()


@override_settings(**LIMITS_OFF)
class QueueTimeBudgetTests(SignTestCase):
    @override_settings(SIGNATURES_MAIL_BUDGET_PER_IP="2/3600")
    def test_over_the_per_address_budget_an_email_waits_for_the_next_window_then_goes(self):
        with time_machine.travel(NOON, tick=False):
            for n in range(3):
                self.sign(f"person{n}@example.net")
            self.sign("elsewhere@example.net", ip="203.0.113.9")
        assert len(mail.outbox) == 3
        deferred = self.email_to("person2@example.net")
        assert deferred.status == Status.QUEUED
        assert deferred.next_attempt_at == NOON + timedelta(hours=1)
        with time_machine.travel(NOON + timedelta(hours=1, seconds=1), tick=False):
            assert outbox.deliver(deferred.message_id) == outbox.SENT
        assert mail.outbox[-1].to == ["person2@example.net"]

    @override_settings(SIGNATURES_MAIL_BUDGET_PER_IP="1/3600")
    def test_ipv6_addresses_of_one_64_share_a_budget(self):
        with time_machine.travel(NOON, tick=False):
            self.sign("a@example.net", ip="2001:db8:1:2::1")
            self.sign("b@example.net", ip="2001:db8:1:2:ffff:ffff:ffff:fffe")
            self.sign("c@example.net", ip="2001:db8:1:3::1")
        assert sorted(message.to[0] for message in mail.outbox) == ["a@example.net", "c@example.net"]
        assert self.email_to("b@example.net").next_attempt_at == NOON + timedelta(hours=1)

    @override_settings(SIGNATURES_MAIL_BUDGET_PER_IP="1/3600")
    def test_a_flood_spreads_over_later_windows_instead_of_piling_into_the_next(self):
        with time_machine.travel(NOON, tick=False):
            for n in range(4):
                self.sign(f"flood{n}@example.net")
        assert [self.email_to(f"flood{n}@example.net").next_attempt_at for n in range(4)] == [
            NOON + timedelta(hours=hours) for hours in range(4)
        ]

    @override_settings(SIGNATURES_MAIL_BUDGET_PER_DOMAIN="2/600")
    def test_over_the_per_domain_budget_an_email_is_deferred_and_big_providers_are_exempt(self):
        with time_machine.travel(NOON, tick=False):
            for n in range(3):
                self.sign(f"person{n}@studio.example", ip=f"203.0.113.{n + 1}")
                self.sign(f"person{n}@gmail.com", ip=f"198.51.100.{n + 1}")
        assert self.email_to("person2@studio.example").next_attempt_at == NOON + timedelta(minutes=10)
        assert len(mail.outbox) == 5
        assert self.email_to("person2@gmail.com").status == Status.SENT


@override_settings(**LIMITS_OFF, SIGNATURES_MAIL_BUDGET_OVERALL="1/60")
class SendTimeBudgetTests(SignTestCase):
    def setUp(self):
        self.enterContext(database_queue())

    def test_over_the_overall_budget_the_worker_hands_an_email_back_untried_for_the_next_window(self):
        with time_machine.travel(NOON, tick=False):
            self.sign("first@example.net")
            self.sign("second@example.net", ip="203.0.113.2")
            first, second = self.email_to("first@example.net"), self.email_to("second@example.net")
            # The worker sends the first, then claims the second and hands it back untried.
            assert outbox.deliver(first.message_id) == outbox.SENT
            assert outbox.deliver(second.message_id) == outbox.DEFERRED
        second.refresh_from_db()
        assert (second.status, second.attempts, second.last_error) == (Status.QUEUED, 0, "")
        assert second.next_attempt_at == NOON + timedelta(minutes=1)
        with time_machine.travel(NOON + timedelta(seconds=30), tick=False):
            assert outbox.deliver(second.message_id) == outbox.SKIPPED  # not due yet
        with time_machine.travel(NOON + timedelta(minutes=1, seconds=1), tick=False):
            assert outbox.deliver(second.message_id) == outbox.SENT
        assert [message.to for message in mail.outbox] == [["first@example.net"], ["second@example.net"]]

    def test_a_deferred_email_is_not_counted_as_an_attempt_and_keeps_its_message_id(self):
        with time_machine.travel(NOON, tick=False):
            self.sign("only@example.net")
            email = self.email_to("only@example.net")
            assert mail_budget.budget_allows(email)  # someone else spent this minute's budget
            assert outbox.deliver(email.message_id) == outbox.DEFERRED
        email.refresh_from_db()
        assert (email.status, email.attempts, email.next_attempt_at) == (Status.QUEUED, 0, NOON + timedelta(minutes=1))
        with time_machine.travel(NOON + timedelta(minutes=1), tick=False):
            assert outbox.deliver(email.message_id) == outbox.SENT
        [message] = mail.outbox
        assert message.extra_headers["Message-ID"] == email.message_id

"""The organizer's overview on a letter's admin page, and the opt-in daily digest email."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import time_machine
from django.core import mail
from django.core.management import call_command
from django.test import TestCase, override_settings
from django.urls import reverse
from django.utils import timezone

from signatures import services
from signatures.models import DigestSubscription, Signature, SurgeFlag, WatchlistEntry
from signatures.tokens import Purpose, make_token
from tests.admin_helpers import make_moderator
from tests.factories import make_letter, make_signature, make_staff

IMMEDIATE_TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


class LetterOverviewTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.organizer = make_staff()
        cls.letter = make_letter(title="Our work is ours")
        now = timezone.now()
        with time_machine.travel(now - timedelta(days=2, hours=3), tick=False):
            cls.oldest = make_signature(cls.letter, Signature.State.CONFIRMED)
        with time_machine.travel(now - timedelta(days=1), tick=False):
            for _ in range(3):
                make_signature(cls.letter, Signature.State.APPROVED)
        make_signature(cls.letter, Signature.State.SUBMITTED)
        make_signature(cls.letter, Signature.State.REJECTED)
        WatchlistEntry.objects.create(name="Held Person")
        held = make_signature(cls.letter, Signature.State.SUBMITTED, full_name="Held Person")

        services.confirm_signature(token=make_token(held, Purpose.CONFIRM))

    def overview_page(self):
        self.client.force_login(self.organizer)
        response = self.client.get(reverse("admin:signatures_letter_change", args=[self.letter.pk]))
        assert response.status_code == 200
        return response

    def test_counts_by_state_come_from_the_counters(self):
        overview = self.overview_page().context["overview"]
        assert {str(label): n for label, n in overview.counts} == {
            "Submitted, awaiting email confirmation": 1,
            "Confirmed, awaiting moderation": 1,
            "Held for review": 1,
            "Approved": 3,
            "Rejected": 1,
            "Withdrawn": 0,
        }
        assert overview.public == 3

    def test_the_page_shows_counts_days_the_oldest_wait_and_links(self):
        page = self.overview_page()
        self.assertContains(page, "Held for review")
        self.assertContains(page, "Signatures per day (last 14 days)")
        self.assertContains(page, "has waited 2\xa0days")
        self.assertContains(page, self.letter.get_absolute_url())
        queue = reverse("admin:signatures_signature_changelist") + f"?letter__id__exact={self.letter.pk}"
        self.assertContains(page, queue)
        per_day = dict(page.context["overview"].per_day)
        assert len(per_day) == 14
        assert per_day[timezone.localdate() - timedelta(days=1)] == 3
        assert sum(per_day.values()) == 7

    def test_the_letters_list_links_each_queue(self):
        self.client.force_login(self.organizer)
        page = self.client.get(reverse("admin:signatures_letter_changelist"))
        self.assertContains(page, f"?letter__id__exact={self.letter.pk}")

    def test_an_organizer_opts_in_and_out_of_the_digest(self):
        page = self.overview_page()
        self.assertContains(page, "Email me a daily moderation digest")
        url = reverse("admin:signatures_letter_digest")
        assert self.client.get(url).status_code == 405
        self.client.post(url, {"subscribe": "1", "next": page.wsgi_request.path})
        assert DigestSubscription.objects.filter(user=self.organizer).exists()
        self.assertContains(self.overview_page(), "Stop the daily digest")
        self.client.post(url, {"subscribe": "0"})
        assert not DigestSubscription.objects.exists()

    def test_a_moderator_may_subscribe_too(self):
        moderator = make_moderator()
        self.client.force_login(moderator)
        self.client.post(reverse("admin:signatures_letter_digest"), {"subscribe": "1"})
        assert DigestSubscription.objects.filter(user=moderator).exists()


@override_settings(TASKS=IMMEDIATE_TASKS)
class DigestTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.letter = make_letter(title="Our work is ours")
        with time_machine.travel(timezone.now() - timedelta(hours=30), tick=False):
            make_signature(cls.letter, Signature.State.CONFIRMED)
        make_signature(cls.letter, Signature.State.CONFIRMED)
        SurgeFlag.objects.create(
            letter=cls.letter,
            kind=SurgeFlag.Kind.EMAIL_DOMAIN,
            value="flood.example",
            window_start=timezone.now() - timedelta(hours=1),
            signature_count=250,
        )
        cls.subscriber = make_staff("subscriber", superuser=False)
        DigestSubscription.objects.create(user=cls.subscriber)
        make_staff("not-subscribed")

    def send(self):
        out = StringIO()
        call_command("send_moderation_digest", stdout=out)
        return out.getvalue()

    def test_the_worker_sends_the_digest_to_subscribers_only(self):
        self.send()
        [message] = mail.outbox
        assert message.to == ["subscriber@example.org"]
        assert "2 signatures waiting" in message.subject
        assert "1 surge flagged" in message.subject
        assert "Our work is ours" in message.body
        assert "Awaiting a decision: 2" in message.body
        assert "Oldest waiting: 1\xa0day" in message.body
        assert "flood.example" in message.body
        assert "250 signatures in an hour" in message.body
        assert reverse("admin:signatures_signature_changelist") in message.body

    def test_a_team_member_hears_only_of_the_letters_of_their_team(self):
        other = make_letter(title="Another team's letter")
        make_signature(other, Signature.State.CONFIRMED)
        other.moderators.add(self.subscriber)
        everyone = make_staff("sees-everything", superuser=False)
        DigestSubscription.objects.create(user=everyone)
        self.send()
        by_address = {message.to[0]: message for message in mail.outbox}
        team_digest = by_address["subscriber@example.org"]
        assert "Another team's letter" in team_digest.body
        assert "Our work is ours" not in team_digest.body
        assert "flood.example" not in team_digest.body
        assert "1 signature waiting" in team_digest.subject
        full_digest = by_address["sees-everything@example.org"]
        assert "Our work is ours" in full_digest.body
        assert "Another team's letter" in full_digest.body

    def test_nobody_subscribed_means_no_email(self):
        DigestSubscription.objects.all().delete()
        self.send()
        assert mail.outbox == []

    def test_the_command_sends_it_from_cron_without_a_task_worker(self):
        with override_settings(TASKS={"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}):
            output = self.send()
        assert "Sent the moderation digest to 1 organizer(s)." in output
        assert len(mail.outbox) == 1

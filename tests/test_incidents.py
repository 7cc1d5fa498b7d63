"""
Incident tools for the morning a flood or a prank hits: pausing a letter,
bulk invalidation with an exact preview, and the hourly surge check.
"""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import time_machine
from django.core import mail
from django.core.management import call_command
from django.test import TestCase, override_settings
from django.urls import reverse
from django.utils import timezone

from signatures import services, tasks
from signatures.models import InvalidationRun, Signature, SignatureCounter, SurgeFlag
from signatures.tokens import Purpose, make_token
from tests.admin_helpers import make_moderator
from tests.factories import make_letter, make_signature, make_staff, sign_data

INVALIDATE = "admin:signatures_signature_invalidate"


def public_count(letter) -> int:
    return SignatureCounter.value_for(letter, SignatureCounter.PUBLIC)


def listed_names(client, letter) -> set[str]:
    page = client.get(reverse("signatures:signatories", kwargs={"slug": letter.slug}))
    return {signature.full_name for signature in page.context["page"].object_list}


class PauseTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.organizer = make_staff()
        cls.letter = make_letter(requires_moderation=False)

    def pause(self):
        self.client.force_login(self.organizer)
        response = self.client.post(
            reverse("admin:signatures_letter_changelist"),
            {"action": "pause_signing", "_selected_action": [self.letter.pk], "index": "0"},
        )
        assert response.status_code == 302
        self.client.logout()
        self.letter.refresh_from_db()

    def test_pausing_refuses_new_signatures_and_says_so(self):
        self.pause()
        assert self.letter.is_paused
        assert self.letter.status == self.letter.Status.OPEN  # paused, not closed
        page = self.client.get(self.letter.get_absolute_url())
        self.assertContains(page, "Signing is paused")
        self.assertNotContains(page, 'action="' + reverse("signatures:sign", kwargs={"slug": self.letter.slug}))

        with self.captureOnCommitCallbacks(execute=True):
            response = self.client.post(
                reverse("signatures:sign", kwargs={"slug": self.letter.slug}), sign_data(self.letter)
            )
        assert response.status_code == 403
        self.assertContains(response, "Signing is paused", status_code=403)
        assert not Signature.objects.exists()
        assert mail.outbox == []

    def test_pending_confirmations_still_work_while_paused(self):
        pending = make_signature(self.letter, Signature.State.SUBMITTED, full_name="Signed Before The Pause")
        self.pause()
        confirm_url = reverse("signatures:confirm", kwargs={"token": make_token(pending, Purpose.CONFIRM)})
        response = self.client.post(confirm_url)
        assert response.status_code == 200
        pending.refresh_from_db()
        assert pending.state == Signature.State.APPROVED
        assert public_count(self.letter) == 1

    def test_resuming_opens_the_form_again(self):
        self.pause()
        self.client.force_login(self.organizer)
        self.client.post(
            reverse("admin:signatures_letter_changelist"),
            {"action": "resume_signing", "_selected_action": [self.letter.pk], "index": "0"},
        )
        self.client.logout()
        self.letter.refresh_from_db()
        assert not self.letter.is_paused
        page = self.client.get(self.letter.get_absolute_url())
        self.assertNotContains(page, "Signing is paused")


class BulkInvalidationTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.moderator = make_moderator()
        cls.letter = make_letter()
        cls.other_letter = make_letter()
        cls.flood = [
            make_signature(cls.letter, state, full_name=f"Bot {n}", email=f"bot{n}@spam.example")
            for n, state in enumerate(
                [Signature.State.APPROVED] * 3 + [Signature.State.CONFIRMED] * 2 + [Signature.State.SUBMITTED] * 2
            )
        ]
        cls.already_rejected = make_signature(
            cls.letter, Signature.State.REJECTED, full_name="Old Bot", email="old@spam.example"
        )
        cls.real = make_signature(cls.letter, Signature.State.APPROVED, full_name="Real Person")
        cls.elsewhere = make_signature(
            cls.other_letter, Signature.State.APPROVED, full_name="Other Letter Bot", email="x@spam.example"
        )

    def setUp(self):
        self.client.force_login(self.moderator)

    def preview(self, **criteria):
        data = {"letter": self.letter.pk, "stage": "preview", **criteria}
        response = self.client.post(reverse(INVALIDATE), data)
        assert response.status_code == 200
        return response

    def invalidate(self, preview):
        """Press the button on the preview page: post back exactly the hidden fields it holds."""
        context = preview.context
        form = context["form"]
        data = {field.html_name: field.value() or "" for field in form.visible_fields()}
        data.update({"as_of": context["as_of"].isoformat(), "previewed_count": context["total"], "stage": "run"})
        return self.client.post(reverse(INVALIDATE), data)

    def test_the_form_asks_for_a_criterion(self):
        assert self.client.get(reverse(INVALIDATE)).status_code == 200
        response = self.client.post(reverse(INVALIDATE), {"letter": self.letter.pk, "stage": "preview"})
        self.assertContains(response, "Give at least one criterion")

    def test_invalidation_by_domain_matches_its_preview_exactly(self):
        before_public = public_count(self.letter)
        preview = self.preview(email_domain="SPAM.example")
        assert preview.context["total"] == 7  # pending, confirmed and approved: not the one already rejected
        assert preview.context["public"] == 3
        self.assertContains(preview, "<strong>7</strong> signatures match")
        assert Signature.objects.filter(state=Signature.State.REJECTED).count() == 1  # nothing changed yet

        response = self.invalidate(preview)
        assert response.status_code == 302
        assert public_count(self.letter) == before_public - 3
        assert listed_names(self.client, self.letter) == {"Real Person"}
        for signature in self.flood:
            signature.refresh_from_db()
            assert signature.state == Signature.State.REJECTED
            assert signature.moderated_by == self.moderator
        self.elsewhere.refresh_from_db()
        assert self.elsewhere.state == Signature.State.APPROVED  # another letter is untouched

        run = InvalidationRun.objects.get()
        assert (run.previewed_count, run.signature_count, run.public_count) == (7, 7, 3)
        assert run.ran_by == self.moderator
        assert run.email_domain == "spam.example"
        assert run.letter == self.letter
        # Each rejected signature's History says so.
        history = self.client.get(reverse("admin:signatures_signature_history", args=[self.flood[0].pk]))
        self.assertContains(history, "Invalidated in bulk: domain=spam.example")
        # Counters equal the database truth.
        assert services.recount_letter(letter=self.letter) == {}

    def test_pending_signatures_cannot_be_confirmed_after_invalidation(self):
        pending = self.flood[-1]
        self.invalidate(self.preview(email_domain="spam.example"))
        token = make_token(pending, Purpose.CONFIRM)
        response = self.client.post(reverse("signatures:confirm", kwargs={"token": token}))
        assert response.status_code == 400
        pending.refresh_from_db()
        assert pending.state == Signature.State.REJECTED

    def test_signatures_arriving_after_the_preview_are_not_touched(self):
        preview = self.preview(email_domain="spam.example")
        with time_machine.travel(timezone.now() + timedelta(seconds=5)):
            late = make_signature(self.letter, Signature.State.APPROVED, email="late@spam.example")
            self.invalidate(preview)
        late.refresh_from_db()
        assert late.state == Signature.State.APPROVED
        assert InvalidationRun.objects.get().signature_count == 7

    def test_invalidation_by_name_pattern_ignores_case_and_accents(self):
        make_signature(self.letter, Signature.State.APPROVED, full_name="Élon Musk")
        make_signature(self.letter, Signature.State.APPROVED, full_name="ELON MUSK (real)")
        preview = self.preview(name_pattern="elon musk*")
        assert preview.context["total"] == 2
        self.invalidate(preview)
        assert "Real Person" in listed_names(self.client, self.letter)
        assert not any("lon" in name for name in listed_names(self.client, self.letter))

    def test_invalidation_by_ip_hash_and_time_window(self):
        now = timezone.now()
        ip_hash = services.hash_ip("203.0.113.9")
        with time_machine.travel(now - timedelta(hours=5), tick=False):
            early = make_signature(self.letter, Signature.State.APPROVED, ip_hash=ip_hash)
        with time_machine.travel(now - timedelta(hours=1), tick=False):
            in_window = [make_signature(self.letter, Signature.State.APPROVED, ip_hash=ip_hash) for _ in range(3)]
        start = (now - timedelta(hours=2)).strftime("%Y-%m-%d %H:%M:%S")
        preview = self.preview(ip_hash=ip_hash, created_from=start)
        assert preview.context["total"] == 3
        before = public_count(self.letter)
        self.invalidate(preview)
        assert public_count(self.letter) == before - 3
        early.refresh_from_db()
        assert early.state == Signature.State.APPROVED
        assert all(Signature.objects.get(pk=s.pk).state == Signature.State.REJECTED for s in in_window)

    def test_staff_without_the_moderate_permission_cannot_invalidate(self):
        self.client.force_login(make_staff("viewer", superuser=False))
        response = self.client.post(reverse(INVALIDATE), {"letter": self.letter.pk, "email_domain": "spam.example"})
        assert response.status_code == 403
        assert not InvalidationRun.objects.exists()


@override_settings(SIGNATURES_SURGE_DOMAIN_PER_HOUR=20, SIGNATURES_SURGE_IP_PER_HOUR=10)
class SurgeCheckTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.letter = make_letter()
        now = timezone.now()
        with time_machine.travel(now - timedelta(minutes=30), tick=False):
            # The fixture: 25 signatures in half an hour from one domain, 5 from elsewhere.
            for n in range(25):
                make_signature(cls.letter, email=f"s{n}@flood.example")
            for n in range(5):
                make_signature(cls.letter, email=f"person{n}@studio.example")
        with time_machine.travel(now - timedelta(hours=3), tick=False):
            # Old news: outside the hour.
            for n in range(25):
                make_signature(cls.letter, email=f"o{n}@yesterday.example")

    def check(self):
        out = StringIO()
        call_command("check_surges", stdout=out)
        return out.getvalue()

    def test_a_surge_raises_exactly_one_flag_however_often_the_check_runs(self):
        output = self.check()
        assert "1 new surge flag" in output
        self.check()
        self.check()
        flag = SurgeFlag.objects.get()
        assert (flag.letter, flag.kind, flag.value) == (self.letter, SurgeFlag.Kind.EMAIL_DOMAIN, "flood.example")
        assert flag.signature_count == 25

    def test_a_surge_from_one_network_is_flagged(self):
        ip_hash = services.hash_ip("198.51.100.7")
        for n in range(12):
            make_signature(self.letter, email=f"p{n}@many.example", ip_hash=ip_hash)
        self.check()
        assert SurgeFlag.objects.filter(kind=SurgeFlag.Kind.IP_HASH, value=ip_hash).count() == 1

    @override_settings(SIGNATURES_SURGE_IGNORED_DOMAINS=["flood.example"])
    def test_ignored_domains_are_not_flagged(self):
        self.check()
        assert not SurgeFlag.objects.exists()

    def test_a_reviewed_surge_that_goes_on_raises_a_new_flag(self):
        self.check()
        services.review_surge_flags(flag_ids=SurgeFlag.objects.values_list("pk", flat=True), moderator=None)
        self.check()
        assert SurgeFlag.objects.count() == 2
        assert SurgeFlag.objects.filter(reviewed_at__isnull=True).count() == 1

    def test_the_flag_is_shown_to_moderators_in_the_admin(self):
        self.check()
        self.client.force_login(make_moderator())
        page = self.client.get(reverse("admin:signatures_surgeflag_changelist"))
        assert page.status_code == 200
        self.assertContains(page, "flood.example")
        overview = self.client.get(reverse("admin:signatures_letter_change", args=[self.letter.pk]))
        self.assertContains(overview, "flood.example")

    def test_a_moderator_marks_a_flag_reviewed(self):
        self.check()
        moderator = make_moderator()
        self.client.force_login(moderator)
        flag = SurgeFlag.objects.get()
        self.client.post(
            reverse("admin:signatures_surgeflag_changelist"),
            {"action": "mark_reviewed", "_selected_action": [flag.pk], "index": "0"},
        )
        flag.refresh_from_db()
        assert flag.reviewed_by == moderator
        assert flag.reviewed_at is not None

    def test_the_task_runs_the_same_check(self):

        assert tasks.check_surges.call() == 1
        assert tasks.check_surges.call() == 0
        assert SurgeFlag.objects.count() == 1

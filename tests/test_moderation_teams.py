"""
Letter teams: a moderator on letter A's team sees, changes, acts on and
exports letter A's signatures only. Letter B's rows stay out of reach
however they are asked for: by list, by change page, by ids posted to an
action, by export. Superusers and staff on no team see every letter.
"""

from __future__ import annotations

from django.contrib.auth.models import Permission
from django.test import TestCase
from django.urls import reverse

from signatures.models import InvalidationRun, Signature, SurgeFlag
from tests.admin_helpers import changelist_url, make_moderator, run_action
from tests.factories import make_letter, make_signature, make_staff

State = Signature.State


class LetterTeamTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.letter_a = make_letter(title="Letter for the arts")
        cls.letter_b = make_letter(title="Letter about housing")
        cls.a_waiting = make_signature(cls.letter_a, State.CONFIRMED, full_name="Alma Waiting")
        cls.b_waiting = make_signature(cls.letter_b, State.CONFIRMED, full_name="Bruno Waiting")
        cls.b_approved = make_signature(cls.letter_b, State.APPROVED, full_name="Berta Approved")
        cls.moderator = make_moderator("arts-moderator")
        cls.moderator.user_permissions.add(
            *Permission.objects.filter(codename__in=["export_signature", "change_signature"])
        )
        cls.letter_a.moderators.add(cls.moderator)
        SurgeFlag.objects.create(
            letter=cls.letter_b,
            kind=SurgeFlag.Kind.EMAIL_DOMAIN,
            value="housing-surge.example",
            window_start=cls.b_waiting.created_at,
            signature_count=40,
        )

    def setUp(self):
        self.client.force_login(self.moderator)

    def assert_b_unchanged(self):
        self.b_waiting.refresh_from_db()
        self.b_approved.refresh_from_db()
        assert self.b_waiting.state == State.CONFIRMED
        assert self.b_waiting.moderated_by is None
        assert self.b_approved.state == State.APPROVED
        assert not self.b_approved.is_notable
        assert not self.b_approved.is_verified

    def test_the_queue_shows_only_the_team_letters_signatures(self):
        page = self.client.get(changelist_url(status="all"))
        self.assertContains(page, "Alma Waiting")
        self.assertNotContains(page, "Bruno Waiting")
        self.assertNotContains(page, "Berta Approved")
        # The letter filter offers the team's letter only: B's title is not shown either.
        self.assertNotContains(page, "Letter about housing")

    def test_filtering_by_the_other_letter_shows_nothing(self):
        page = self.client.get(changelist_url(status="all", letter__id__exact=self.letter_b.pk))
        self.assertNotContains(page, "Bruno Waiting")
        self.assertNotContains(page, "Berta Approved")

    def test_the_other_letters_signature_page_is_not_found(self):
        page = self.client.get(reverse("admin:signatures_signature_change", args=[self.b_waiting.pk]), follow=True)
        self.assertNotContains(page, "Bruno Waiting")
        self.assertContains(page, "doesn\u2019t exist")
        own = self.client.get(reverse("admin:signatures_signature_change", args=[self.a_waiting.pk]))
        self.assertContains(own, "Alma Waiting")

    def test_the_other_letters_signature_cannot_be_edited(self):
        url = reverse("admin:signatures_signature_change", args=[self.b_waiting.pk])
        fields = {"full_name": "Renamed", "title": "", "affiliation": "", "city": "", "country": "", "comment": ""}
        self.client.post(url, fields)
        self.b_waiting.refresh_from_db()
        assert self.b_waiting.full_name == "Bruno Waiting"

    def test_actions_posted_with_the_other_letters_ids_change_nothing(self):
        ids = [self.b_waiting.pk, self.b_approved.pk]
        run_action(self.client, "approve", ids)
        run_action(self.client, "mark_notable", ids)
        run_action(self.client, "mark_verified", ids, method="representative", post="yes")
        run_action(self.client, "verify_approve_and_mark_notable", ids, method="representative", post="yes")
        run_action(self.client, "reject", ids, reason="", post="yes")
        run_action(self.client, "reject_as_fraud", ids, reason="", post="yes")
        run_action(self.client, "unmark", ids)
        self.assert_b_unchanged()

    def test_select_across_acts_on_the_team_letters_only(self):
        run_action(self.client, "approve", [self.a_waiting.pk], select_across="1", url=changelist_url(status="all"))
        self.a_waiting.refresh_from_db()
        assert self.a_waiting.state == State.APPROVED
        self.assert_b_unchanged()

    def test_exports_leave_out_the_other_letters_signatures(self):
        export = self.client.get(
            reverse("admin:signatures_signature_export") + f"?status=all&letter__id__exact={self.letter_b.pk}"
        )
        body = b"".join(export.streaming_content).decode()
        assert "Bruno Waiting" not in body
        assert "Berta Approved" not in body
        everything = self.client.get(reverse("admin:signatures_signature_export") + "?status=all")
        body = b"".join(everything.streaming_content).decode()
        assert "Alma Waiting" in body
        assert "Bruno Waiting" not in body
        selected = run_action(self.client, "export_selected", [self.a_waiting.pk, self.b_waiting.pk])
        body = b"".join(selected.streaming_content).decode()
        assert "Alma Waiting" in body
        assert "Bruno Waiting" not in body

    def test_the_other_letters_overview_is_not_shown(self):
        other = self.client.get(reverse("admin:signatures_letter_change", args=[self.letter_b.pk]), follow=True)
        self.assertNotContains(other, "Letter about housing")
        own = self.client.get(reverse("admin:signatures_letter_change", args=[self.letter_a.pk]))
        self.assertContains(own, "Overview")
        letters = self.client.get(reverse("admin:signatures_letter_changelist"))
        self.assertContains(letters, "Letter for the arts")
        self.assertNotContains(letters, "Letter about housing")

    def test_surge_flags_and_invalidation_runs_of_the_other_letter_are_hidden(self):
        flags = self.client.get(reverse("admin:signatures_surgeflag_changelist"))
        self.assertNotContains(flags, "housing-surge.example")
        InvalidationRun.objects.create(
            letter=self.letter_b, email_domain="housing-run.example", reason="test", signature_count=0
        )
        runs = self.client.get(reverse("admin:signatures_invalidationrun_changelist"))
        self.assertNotContains(runs, "housing-run.example")

    def test_bulk_invalidation_cannot_pick_the_other_letter(self):
        page = self.client.get(reverse("admin:signatures_signature_invalidate"))
        self.assertNotContains(page, "Letter about housing")
        response = self.client.post(
            reverse("admin:signatures_signature_invalidate"),
            {
                "letter": self.letter_b.pk,
                "email_domain": "example.org",
                "reason": "spam",
                "stage": "run",
                "previewed_count": "2",
            },
        )
        self.assertContains(response, "Select a valid choice")
        self.assert_b_unchanged()

    def test_a_moderator_cannot_put_themselves_on_another_team(self):
        self.moderator.user_permissions.add(Permission.objects.get(codename="change_letter"))
        page = self.client.get(reverse("admin:signatures_letter_change", args=[self.letter_a.pk]))
        self.assertNotContains(page, 'name="moderators"')


class EveryLetterTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        letter_a, letter_b = make_letter(), make_letter()
        make_signature(letter_a, State.CONFIRMED, full_name="Alma Waiting")
        make_signature(letter_b, State.CONFIRMED, full_name="Bruno Waiting")
        letter_a.moderators.add(make_moderator("on-a-team"))

    def test_a_superuser_sees_every_letter(self):
        self.client.force_login(make_staff())
        page = self.client.get(changelist_url())
        self.assertContains(page, "Alma Waiting")
        self.assertContains(page, "Bruno Waiting")

    def test_a_moderator_on_no_team_sees_every_letter(self):
        self.client.force_login(make_moderator("no-team"))
        page = self.client.get(changelist_url())
        self.assertContains(page, "Alma Waiting")
        self.assertContains(page, "Bruno Waiting")

"""
The moderation workspace in the admin: possible impersonations first and
badged, one action that verifies, approves and marks notable (from the queue
or the approved list), plain names for third-party apps, and a queue page
that loads its layout and shortcuts from static files.
"""

from __future__ import annotations

from django.contrib.admin.models import LogEntry
from django.db import connection
from django.test import TestCase
from django.urls import reverse
from django.utils import timezone

from signatures.models import Signature, WatchlistEntry
from tests.admin_helpers import changelist_url, make_moderator, run_action
from tests.factories import make_letter, make_signature, make_staff

State = Signature.State


class QueueTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.letter = make_letter(title="A letter with a rather long title that would repeat on every row")
        cls.entry = WatchlistEntry.objects.create(name="Meryl Streep", verification_note="Through her agent.")
        cls.plain = make_signature(cls.letter, State.CONFIRMED, full_name="Oldest Plain")
        cls.volume = make_signature(
            cls.letter, State.CONFIRMED, full_name="Volume Hold", hold_reason=Signature.HoldReason.IP_LIMIT
        )
        cls.look_alike = make_signature(
            cls.letter,
            State.CONFIRMED,
            full_name="Meryl Streeep",
            hold_reason=Signature.HoldReason.WATCHLIST,
            hold_detail="possible match for Meryl Streep: near spelling",
            held_for_entry=cls.entry,
        )

    def setUp(self):
        self.client.force_login(make_moderator())

    def test_possible_impersonations_come_first_then_other_holds_then_the_rest(self):
        rows = list(self.client.get(changelist_url()).context["cl"].result_list)
        assert [s.full_name for s in rows] == ["Meryl Streeep", "Volume Hold", "Oldest Plain"]

    def test_the_possible_impersonations_filter_shows_name_holds_only(self):
        page = self.client.get(changelist_url(status="matches"))
        assert [s.full_name for s in page.context["cl"].result_list] == ["Meryl Streeep"]
        self.assertContains(page, "<h1>Possible impersonations</h1>", html=True)

    def test_the_hold_is_a_badge_with_the_match_in_words(self):
        page = self.client.get(changelist_url())
        self.assertContains(page, '<span class="hold-badge hold-watchlist">Name on the watchlist</span>', html=True)
        self.assertContains(page, "possible match for Meryl Streep: near spelling")
        self.assertContains(page, '<span class="hold-badge hold-volume">', count=1)

    def test_the_letter_column_is_dropped_once_one_letter_is_chosen(self):
        title = "A letter with a rather"
        assert self.client.get(changelist_url()).content.decode().count(title) >= 3
        filtered = self.client.get(changelist_url(letter__id__exact=self.letter.pk)).content.decode()
        assert filtered.count('class="field-letter_short"') == 0

    def test_the_page_loads_its_styles_and_shortcuts_from_static_files_and_lists_the_shortcuts(self):
        page = self.client.get(changelist_url())
        self.assertContains(page, "admin_undersigned/moderation.css")
        self.assertContains(page, "admin_undersigned/queue_keys.js")
        self.assertContains(page, "Keyboard shortcuts")
        self.assertNotContains(page, ' style="')

    def test_the_signature_page_names_the_matched_entry_and_how_to_verify(self):
        page = self.client.get(reverse("admin:signatures_signature_change", args=[self.look_alike.pk]))
        self.assertContains(page, "possible match for Meryl Streep: near spelling")
        self.assertContains(page, "Through her agent.")
        self.assertContains(page, reverse("admin:signatures_watchlistentry_change", args=[self.entry.pk]))


class VerifyApproveAndMarkNotableTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.letter = make_letter()
        cls.waiting = make_signature(cls.letter, State.CONFIRMED, full_name="Meryl Streep")
        cls.approved = make_signature(cls.letter, State.APPROVED, full_name="Already Listed")

    def setUp(self):
        self.client.force_login(make_moderator())

    def test_from_the_queue_in_five_steps(self):
        # 1 tick the row, 2 choose the action, 3 Go: the page asks how it was verified.
        asked = run_action(self.client, "verify_approve_and_mark_notable", [self.waiting.pk])
        self.assertContains(asked, "How was the identity checked?")
        self.assertContains(asked, "Meryl Streep")
        # 4 pick the method, 5 confirm.
        done = run_action(
            self.client, "verify_approve_and_mark_notable", [self.waiting.pk], method="representative", post="yes"
        )
        assert done.status_code == 302
        self.waiting.refresh_from_db()
        assert self.waiting.state == State.APPROVED
        assert self.waiting.is_verified
        assert self.waiting.verification_method == Signature.VerificationMethod.REPRESENTATIVE
        assert self.waiting.is_notable
        history = LogEntry.objects.get(object_id=str(self.waiting.pk))
        assert "approved and marked notable" in history.change_message
        listing = self.client.get(reverse("signatures:signatories", kwargs={"slug": self.letter.slug}))
        self.assertContains(listing, "Meryl Streep")

    def test_from_the_approved_list_it_marks_an_approved_signature(self):
        url = changelist_url(status="approved")
        response = run_action(
            self.client,
            "verify_approve_and_mark_notable",
            [self.approved.pk],
            url=url,
            method="public_statement",
            post="yes",
        )
        assert response.status_code == 302
        self.approved.refresh_from_db()
        assert self.approved.is_notable
        assert self.approved.is_verified
        assert self.approved.state == State.APPROVED

    def test_a_rejected_signature_is_not_marked(self):
        rejected = make_signature(self.letter, State.REJECTED, full_name="Was Rejected")
        run_action(
            self.client,
            "verify_approve_and_mark_notable",
            [rejected.pk],
            url=changelist_url(status="all"),
            method="representative",
            post="yes",
        )
        rejected.refresh_from_db()
        assert rejected.state == State.REJECTED
        assert not rejected.is_notable

    def test_without_a_method_nothing_changes(self):
        run_action(self.client, "verify_approve_and_mark_notable", [self.waiting.pk], post="yes")
        self.waiting.refresh_from_db()
        assert self.waiting.state == State.CONFIRMED
        assert not self.waiting.is_notable


class SidebarTests(TestCase):
    def test_third_party_apps_have_plain_names(self):
        self.client.force_login(make_staff())
        page = self.client.get(reverse("admin:index"))
        self.assertContains(page, "Undersigned moderation")
        self.assertContains(page, "Sign-in protection")
        self.assertContains(page, "Two-factor devices")
        self.assertContains(page, "Background tasks")
        self.assertNotContains(page, ">Axes<")
        self.assertNotContains(page, "OTP_TOTP")


class QueueAtScaleTests(TestCase):
    """What keeps the queue fast at ten million signatures, asserted on what it shows and on its plan."""

    @classmethod
    def setUpTestData(cls):
        cls.letter = make_letter()
        cls.signature = make_signature(cls.letter, State.CONFIRMED, full_name="Row Link")

    def setUp(self):
        self.client.force_login(make_moderator())

    def test_a_row_link_keeps_the_filters_so_saving_returns_to_the_same_queue(self):
        page = self.client.get(changelist_url(letter__id__exact=self.letter.pk))
        change = reverse("admin:signatures_signature_change", args=[self.signature.pk])
        self.assertContains(
            page, f'<a href="{change}?_changelist_filters=letter__id__exact%3D{self.letter.pk}">Row Link</a>'
        )

    def test_the_confirmed_column_shows_day_month_and_time(self):
        moment = timezone.localtime(self.signature.confirmed_at)
        page = self.client.get(changelist_url())
        self.assertContains(page, f"{moment.day} {moment:%b %H:%M}</time>")

    def test_the_first_page_is_read_from_the_rank_index_in_order_without_a_sort(self):
        if connection.vendor != "postgresql":
            self.skipTest("The index and its plan are PostgreSQL's.")
        for letter_filter in ({"letter__id__exact": self.letter.pk}, {}):
            queryset = self.client.get(changelist_url(**letter_filter)).context["cl"].result_list
            with connection.cursor() as cursor:
                # A handful of rows would be read by a scan and sorted: ask for the
                # plan an index in the queue's order gives, if there is one.
                for method in ("seqscan", "bitmapscan", "sort"):
                    cursor.execute(f"SET LOCAL enable_{method} = off")
                sql, params = queryset.query.sql_with_params()
                cursor.execute(f"EXPLAIN {sql}", params)
                plan = "\n".join(row[0] for row in cursor.fetchall())
            assert "rank_idx" in plan, plan
            assert "Sort" not in plan, plan

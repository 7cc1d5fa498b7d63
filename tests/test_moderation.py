"""The moderation queue in the admin: what a moderator sees, and what each bulk action does to the public list."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core import mail
from django.db import connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from signatures import services
from signatures.models import Signature, SignatureCounter, WatchlistEntry
from signatures.tokens import Purpose, make_token
from tests.admin_helpers import changelist_url, run_action
from tests.factories import make_letter, make_signature, make_staff


def public_names(client, letter) -> list[str]:
    page = client.get(reverse("signatures:signatories", kwargs={"slug": letter.slug}))
    return [signature.full_name for signature in page.context["page"].object_list]


def public_count(letter) -> int:
    return SignatureCounter.value_for(letter, SignatureCounter.PUBLIC)


class ModerationQueueTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.organizer = make_staff()
        cls.letter = make_letter(title="Letter about training data")
        now = timezone.now()
        with time_machine.travel(now - timedelta(hours=3), tick=False):
            cls.oldest = make_signature(
                cls.letter,
                Signature.State.CONFIRMED,
                full_name="Oldest Waiting",
                title="Showrunner",
                affiliation="Studio Nord",
                city="Lyon",
                country="France",
                comment="I wrote forty episodes and want them protected " * 4,
                email="oldest@studio-nord.example",
            )
        with time_machine.travel(now - timedelta(hours=1), tick=False):
            cls.newer = make_signature(cls.letter, Signature.State.CONFIRMED, full_name="Newer Waiting")
        cls.unconfirmed = make_signature(cls.letter, Signature.State.SUBMITTED, full_name="Not Confirmed Yet")
        cls.approved = make_signature(cls.letter, Signature.State.APPROVED, full_name="Already Approved")

    def setUp(self):
        self.client.force_login(self.organizer)

    def test_the_queue_opens_on_confirmed_signatures_oldest_first(self):
        response = self.client.get(changelist_url())
        assert response.status_code == 200
        names = [s.full_name for s in response.context["cl"].result_list]
        assert names == ["Oldest Waiting", "Newer Waiting"]

    def test_the_queue_shows_what_a_decision_needs_at_a_glance(self):
        response = self.client.get(changelist_url())
        for text in (
            "Letter about training data",
            "Oldest Waiting",
            "Director",
            "Showrunner",
            "Studio Nord",
            "Lyon, France",
            "I wrote forty episodes",
            "studio-nord.example",
        ):
            self.assertContains(response, text)
        # Long comments are cut in the list; the whole text is in the title attribute.
        self.assertContains(response, "…")

    def test_other_states_are_one_filter_away(self):
        response = self.client.get(changelist_url(status="all"))
        names = {s.full_name for s in response.context["cl"].result_list}
        assert names == {"Oldest Waiting", "Newer Waiting", "Not Confirmed Yet", "Already Approved"}
        response = self.client.get(changelist_url(status="submitted"))
        assert [s.full_name for s in response.context["cl"].result_list] == ["Not Confirmed Yet"]

    def test_filters_narrow_the_queue(self):
        other_letter = make_letter()
        make_signature(other_letter, Signature.State.CONFIRMED, full_name="Other Letter Signer")
        composer = self.letter.professions.get(name="Composer")
        make_signature(self.letter, Signature.State.CONFIRMED, full_name="A Composer", profession=composer)
        services.mark_verified(signature_ids=[self.newer.pk], moderator=None)
        services.mark_notable(signature_ids=[self.oldest.pk], moderator=None)

        def names(**params):
            return {s.full_name for s in self.client.get(changelist_url(**params)).context["cl"].result_list}

        assert names(letter__id__exact=other_letter.pk) == {"Other Letter Signer"}
        # Professions belong to a letter: the filter appears once a letter is chosen.
        assert names(letter__id__exact=self.letter.pk, profession=composer.pk) == {"A Composer"}
        assert names(is_verified__exact=1) == {"Newer Waiting"}
        assert names(is_notable__exact=1) == {"Oldest Waiting"}
        assert "Oldest Waiting" not in names(created_at__gte=(timezone.now() - timedelta(hours=2)).isoformat())

    def test_search_finds_a_name_an_email_a_domain_or_an_affiliation(self):
        def names(term):
            return {s.full_name for s in self.client.get(changelist_url(q=term)).context["cl"].result_list}

        assert names("waiting") == {"Oldest Waiting", "Newer Waiting"}
        assert names("oldest@studio") == {"Oldest Waiting"}
        assert names("@studio-nord.example") == {"Oldest Waiting"}
        assert names("studio nord") == {"Oldest Waiting"}

    def test_the_queue_page_costs_the_same_queries_however_long_and_never_counts_the_table(self):
        def queries():
            with CaptureQueriesContext(connection) as captured:
                assert self.client.get(changelist_url()).status_code == 200
            return [query["sql"] for query in captured.captured_queries]

        queries()  # warm up sessions and caches
        few = queries()
        for n in range(10):
            make_signature(self.letter, Signature.State.CONFIRMED, full_name=f"Extra {n}")
        many = queries()
        assert len(many) == len(few)
        counts = [sql for sql in many if "COUNT(" in sql and "signatures_signature" in sql]
        assert counts, "the paginator counts"
        assert all("LIMIT" in sql for sql in counts), counts

    def test_a_signature_cannot_be_added_or_deleted_in_the_admin(self):
        assert self.client.get(reverse("admin:signatures_signature_add")).status_code == 403
        delete_url = reverse("admin:signatures_signature_delete", args=[self.oldest.pk])
        assert self.client.post(delete_url, {"post": "yes"}).status_code == 403
        assert Signature.objects.filter(pk=self.oldest.pk).exists()
        assert (
            "delete_selected"
            not in self.client.get(changelist_url()).context["action_form"].fields["action"].choices.__repr__()
        )


class BulkActionTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.organizer = make_staff()
        cls.letter = make_letter()
        cls.first = make_signature(cls.letter, Signature.State.CONFIRMED, full_name="First Person")
        cls.second = make_signature(cls.letter, Signature.State.CONFIRMED, full_name="Second Person")
        cls.third = make_signature(cls.letter, Signature.State.CONFIRMED, full_name="Third Person")

    def setUp(self):
        self.client.force_login(self.organizer)

    def test_approving_in_bulk_lists_and_counts_the_signatures(self):
        assert public_names(self.client, self.letter) == []
        response = run_action(self.client, "approve", [self.first.pk, self.second.pk])
        assert response.status_code == 302
        assert set(public_names(self.client, self.letter)) == {"First Person", "Second Person"}
        assert public_count(self.letter) == 2
        page = self.client.get(self.letter.get_absolute_url())
        self.assertContains(page, "<strong>2</strong>")
        # They left the queue.
        queue = {s.full_name for s in self.client.get(changelist_url()).context["cl"].result_list}
        assert queue == {"Third Person"}

    def test_approving_every_filtered_row_at_once(self):
        other = make_letter()
        outsider = make_signature(other, Signature.State.CONFIRMED)
        url = changelist_url(letter__id__exact=self.letter.pk)
        run_action(self.client, "approve", [self.first.pk], url=url, select_across="1")
        assert public_count(self.letter) == 3
        outsider.refresh_from_db()
        assert outsider.state == Signature.State.CONFIRMED

    def test_rejecting_asks_for_an_optional_reason_and_keeps_it(self):
        services.approve_signatures(signature_ids=[self.first.pk], moderator=None)
        assert public_count(self.letter) == 1

        everything = changelist_url(status="all")  # the approved one is not in the queue
        page = run_action(self.client, "reject", [self.first.pk, self.second.pk], url=everything)
        assert page.status_code == 200
        self.assertContains(page, "Reject these signatures?")
        self.assertContains(page, "First Person")
        self.first.refresh_from_db()
        assert self.first.state == Signature.State.APPROVED  # nothing changed yet

        response = run_action(
            self.client,
            "reject",
            [self.first.pk, self.second.pk],
            url=everything,
            post="yes",
            reason="Not a real person",
        )
        assert response.status_code == 302
        for signature in (self.first, self.second):
            signature.refresh_from_db()
            assert signature.state == Signature.State.REJECTED
            assert signature.rejection_reason == "Not a real person"
        assert public_names(self.client, self.letter) == []
        assert public_count(self.letter) == 0

    def test_rejecting_without_a_reason_works_too(self):
        run_action(self.client, "reject", [self.third.pk], post="yes", reason="")
        self.third.refresh_from_db()
        assert self.third.state == Signature.State.REJECTED
        assert self.third.rejection_reason == ""

    def test_marking_verified_asks_how_then_shows_the_mark_publicly(self):
        services.approve_signatures(signature_ids=[self.first.pk], moderator=None)
        everything = changelist_url(status="all")
        page = run_action(self.client, "mark_verified", [self.first.pk], url=everything)
        self.assertContains(page, "How was the identity checked?")
        run_action(self.client, "mark_verified", [self.first.pk], url=everything, post="yes", method="representative")
        self.first.refresh_from_db()
        assert self.first.is_verified
        assert self.first.verification_method == "representative"
        listing = self.client.get(reverse("signatures:signatories", kwargs={"slug": self.letter.slug}))
        self.assertContains(listing, 'class="verified"')

    def test_marking_verified_needs_a_method(self):
        page = run_action(self.client, "mark_verified", [self.first.pk], post="yes")
        assert page.status_code == 200
        self.first.refresh_from_db()
        assert not self.first.is_verified

    def test_marking_notable_puts_a_signatory_first(self):
        services.approve_signatures(signature_ids=[self.first.pk, self.second.pk, self.third.pk], moderator=None)
        first_name_before = public_names(self.client, self.letter)[0]
        assert first_name_before == "Third Person"  # newest first
        run_action(self.client, "mark_notable", [self.first.pk], url=changelist_url(status="approved"))
        assert public_names(self.client, self.letter)[0] == "First Person"

    def test_unmarking_removes_both_marks(self):
        services.approve_signatures(signature_ids=[self.first.pk], moderator=None)
        services.mark_verified(signature_ids=[self.first.pk], moderator=None, method="representative")
        services.mark_notable(signature_ids=[self.first.pk], moderator=None)
        run_action(self.client, "unmark", [self.first.pk], url=changelist_url(status="approved"))
        self.first.refresh_from_db()
        assert not self.first.is_verified
        assert not self.first.is_notable
        assert self.first.verification_method == ""

    def test_each_decision_records_who_and_when_and_shows_in_the_history(self):
        before = timezone.now()
        run_action(self.client, "approve", [self.first.pk])
        run_action(self.client, "reject", [self.second.pk], post="yes", reason="Duplicate of another entry")
        for signature in (self.first, self.second):
            signature.refresh_from_db()
            assert signature.moderated_by == self.organizer
            assert signature.moderated_at >= before
        content_type = ContentType.objects.get_for_model(Signature)
        entries = LogEntry.objects.filter(content_type=content_type, user=self.organizer, action_flag=CHANGE)
        assert {(int(e.object_id), e.change_message) for e in entries} == {
            (self.first.pk, "Approved."),
            (self.second.pk, "Rejected: Duplicate of another entry"),
        }
        history = self.client.get(reverse("admin:signatures_signature_history", args=[self.second.pk]))
        self.assertContains(history, "Rejected: Duplicate of another entry")
        self.assertContains(history, self.organizer.username)

    def test_a_decision_that_changes_nothing_is_not_logged(self):
        services.reject_signatures(signature_ids=[self.first.pk], moderator=None)
        run_action(self.client, "approve", [self.first.pk])  # rejected signatures are not approved
        assert not LogEntry.objects.filter(object_id=str(self.first.pk)).exists()

    def test_state_and_marks_cannot_be_edited_in_the_form(self):
        page = self.client.get(reverse("admin:signatures_signature_change", args=[self.first.pk]))
        form = page.context["adminform"].form
        for field in ("state", "hold_reason", "is_verified", "is_notable", "wants_listing", "profession", "email"):
            assert field not in form.fields


class WatchlistHoldTests(TestCase):
    """A famous name on a letter without moderation waits for a person to check it."""

    @classmethod
    def setUpTestData(cls):
        cls.organizer = make_staff()
        cls.letter = make_letter(requires_moderation=False)
        WatchlistEntry.objects.create(name="Agnès Varda", note="Often impersonated")

    def sign_and_confirm(self, full_name):
        signature = make_signature(self.letter, Signature.State.SUBMITTED, full_name=full_name)

        self.client.post(reverse("signatures:confirm", kwargs={"token": make_token(signature, Purpose.CONFIRM)}))
        signature.refresh_from_db()
        return signature

    def test_a_watchlisted_name_stays_off_the_public_list_until_verified_and_approved(self):
        ordinary = self.sign_and_confirm("Ordinary Person")
        assert ordinary.state == Signature.State.APPROVED  # no moderation on this letter

        impostor = self.sign_and_confirm("AGNES  varda")
        assert impostor.state == Signature.State.CONFIRMED
        assert impostor.hold_reason == Signature.HoldReason.WATCHLIST
        assert public_names(self.client, self.letter) == ["Ordinary Person"]
        assert public_count(self.letter) == 1
        letter_page = self.client.get(self.letter.get_absolute_url())
        self.assertNotContains(letter_page, "AGNES")

        # The moderator sees it flagged in the queue and in the "held" filter.
        self.client.force_login(self.organizer)
        held = self.client.get(changelist_url(status="held"))
        assert [s.pk for s in held.context["cl"].result_list] == [impostor.pk]
        self.assertContains(held, "Name on the watchlist")

        run_action(self.client, "mark_verified", [impostor.pk], post="yes", method="representative")
        run_action(self.client, "mark_notable", [impostor.pk])
        self.client.logout()
        assert public_names(self.client, self.letter) == ["Ordinary Person"]  # verified is not approved

        self.client.force_login(self.organizer)
        run_action(self.client, "approve", [impostor.pk])
        self.client.logout()
        assert public_names(self.client, self.letter) == ["AGNES  varda", "Ordinary Person"]
        assert public_count(self.letter) == 2

    def test_a_notable_signature_carries_the_verified_mark_only_once_verified(self):
        signature = self.sign_and_confirm("Agnès Varda")
        services.approve_signatures(signature_ids=[signature.pk], moderator=None)
        services.mark_notable(signature_ids=[signature.pk], moderator=None)
        page = self.client.get(self.letter.get_absolute_url())
        self.assertContains(page, "Agnès Varda")
        self.assertNotContains(page, 'class="verified"')

        services.mark_verified(signature_ids=[signature.pk], moderator=None, method="representative")
        page = self.client.get(self.letter.get_absolute_url())
        self.assertContains(page, 'class="verified"')


class CountedSignatureEmailTests(TestCase):
    """A letter can tell each signer when a moderator approves them ("Your signature is counted")."""

    @classmethod
    def setUpTestData(cls):
        cls.moderator = make_staff()

    def setUp(self):
        self.client.force_login(self.moderator)

    def approve(self, letter) -> Signature:
        signature = make_signature(letter, Signature.State.CONFIRMED, full_name="Ada Counted", wants_listing=True)
        with self.captureOnCommitCallbacks(execute=True):
            assert run_action(self.client, "approve", [signature.pk]).status_code == 302
        return signature

    def test_a_letter_that_asks_for_it_emails_the_signer_once_approved(self):
        letter = make_letter(title="Counted letter", notifies_signers_when_counted=True)
        signature = self.approve(letter)
        (message,) = mail.outbox
        assert message.to == [signature.email]
        assert message.subject == "Your signature is counted: Counted letter"
        assert "Your name is on the public list." in message.body

    def test_by_default_approval_sends_nothing(self):
        self.approve(make_letter())
        assert mail.outbox == []

"""
The founding phase: invitees sign through a private link while the letter's
public address answers 404; a scheduled launch makes it public by itself.
"""

from __future__ import annotations

import io
import threading
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.db import connection, connections
from django.test import Client, TestCase, TransactionTestCase
from django.urls import reverse
from django.utils import timezone

from signatures import services, tasks
from signatures.models import Invitation, Letter, Signature
from signatures.tokens import make_invitation_token
from tests.factories import make_letter, make_signature, make_staff, sign_data
from tests.helpers import path_of_link
from tests.letter_admin import change_form_data, save_letter


def invitation_path(invitation: Invitation, name: str = "signatures:invitation") -> str:
    return reverse(name, kwargs={"token": make_invitation_token(invitation)})


class InvitationSigningTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.letter = make_letter(status=Letter.Status.FOUNDING, title="The founding letter", requires_moderation=True)
        cls.invitation = services.create_invitation(letter=cls.letter, label="Agnès", created_by=None)

    def sign_through(self, invitation: Invitation, **overrides):
        with self.captureOnCommitCallbacks(execute=True):
            return self.client.post(
                invitation_path(invitation, "signatures:invitation_sign"), sign_data(self.letter, **overrides)
            )

    def assert_public_pages_are_404(self):
        slug = self.letter.slug
        for url in (
            self.letter.get_absolute_url(),
            reverse("signatures:signatories", kwargs={"slug": slug}),
            reverse("signatures:transparency", kwargs={"slug": slug}),
            reverse("signatures:letter_versions", kwargs={"slug": slug}),
            reverse("signatures:delivery", kwargs={"slug": slug}),
        ):
            assert self.client.get(url).status_code == 404, url
        response = self.client.post(reverse("signatures:sign", kwargs={"slug": slug}), sign_data(self.letter))
        assert response.status_code == 404

    def test_an_invitation_link_signs_a_founding_letter_while_its_public_url_is_404(self):
        self.assert_public_pages_are_404()

        page = self.client.get(invitation_path(self.invitation))
        self.assertContains(page, "The founding letter")
        self.assertContains(page, "Sign as a founding signatory")
        self.assertContains(page, f'action="{invitation_path(self.invitation, "signatures:invitation_sign")}"')
        assert page["Referrer-Policy"] == "same-origin"

        response = self.sign_through(self.invitation)
        self.assertRedirects(response, invitation_path(self.invitation, "signatures:invitation_check_email"))
        self.assertContains(self.client.get(response["Location"]), "Check your email")

        # The same confirmation and moderation as everyone else.
        [message] = mail.outbox
        confirm_path = path_of_link(message, "/confirm/")
        confirmed = self.client.post(confirm_path)
        self.assertContains(confirmed, "founding signatories")
        self.assertNotContains(confirmed, "Share this letter")  # nothing public to share yet
        self.assertNotContains(confirmed, f'href="{self.letter.get_absolute_url()}"')
        signature = Signature.objects.get()
        assert signature.state == Signature.State.CONFIRMED
        assert signature.is_founding
        assert signature.version.number == 1
        services.approve_signatures(signature_ids=[signature.pk], moderator=None)

        self.invitation.refresh_from_db()
        assert self.invitation.use_count == 1
        # Still embargoed: nothing about it is public, not even the founding name.
        self.assert_public_pages_are_404()

    def test_a_revoked_invitation_does_not_let_anyone_sign(self):
        services.revoke_invitations(invitation_ids=[self.invitation.pk])
        page = self.client.get(invitation_path(self.invitation))
        self.assertContains(page, "This invitation no longer works", status_code=404)
        self.assertNotContains(page, "The founding letter", status_code=404)
        response = self.sign_through(self.invitation)
        assert response.status_code == 404
        assert not Signature.objects.exists()
        assert mail.outbox == []

    def test_an_expired_invitation_does_not_let_anyone_sign(self):
        invitation = services.create_invitation(
            letter=self.letter, label="Guild", created_by=None, expires_at=timezone.now() + timedelta(days=2)
        )
        assert self.client.get(invitation_path(invitation)).status_code == 200
        with time_machine.travel(timezone.now() + timedelta(days=3)):
            assert self.client.get(invitation_path(invitation)).status_code == 404
            assert self.sign_through(invitation).status_code == 404
        assert not Signature.objects.exists()

    def test_a_used_up_invitation_does_not_let_anyone_else_sign(self):
        invitation = services.create_invitation(letter=self.letter, label="Just one", created_by=None, max_uses=1)
        self.sign_through(invitation, email="first@example.org")
        response = self.sign_through(invitation, email="second@example.org")
        assert response.status_code == 404
        assert list(Signature.objects.values_list("email", flat=True)) == ["first@example.org"]

    def test_a_wrong_or_malformed_secret_is_404(self):
        token = make_invitation_token(self.invitation)
        wrong = token[:-1] + ("0" if token[-1] != "0" else "1")
        for bad in (wrong, "x", "1-2", "-", "a" * 200):
            assert self.client.get(reverse("signatures:invitation", kwargs={"token": bad})).status_code == 404
        assert self.client.post(reverse("signatures:invitation_sign", kwargs={"token": wrong})).status_code == 404

    def test_an_invitation_to_a_draft_letter_does_not_open_it(self):
        draft = make_letter(status=Letter.Status.DRAFT)
        invitation = services.create_invitation(letter=draft, label="Too early", created_by=None)
        assert self.client.get(invitation_path(invitation)).status_code == 404

    def test_the_secret_is_not_stored_in_the_database(self):
        token = make_invitation_token(self.invitation)
        secret = token.split("-", 1)[1]
        stored = Invitation.objects.filter(pk=self.invitation.pk).values()[0]
        assert all(secret not in str(value) for value in stored.values())

    def test_after_launch_the_invitation_link_leads_to_the_public_letter(self):
        services.launch_letter(letter=self.letter)
        response = self.client.get(invitation_path(self.invitation))
        self.assertRedirects(response, self.letter.get_absolute_url())


class ScheduledLaunchTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.launch_at = timezone.now() + timedelta(hours=2)
        cls.letter = make_letter(status=Letter.Status.FOUNDING, launch_at=cls.launch_at, requires_moderation=True)
        cls.founder = make_signature(
            cls.letter, Signature.State.APPROVED, full_name="Founding Person", is_founding=True
        )
        cls.notable = make_signature(cls.letter, Signature.State.APPROVED, full_name="Notable Person")
        services.mark_notable(signature_ids=[cls.notable.pk], moderator=None)

    def test_scheduled_launch_publishes_without_a_request_from_an_organizer(self):
        assert self.client.get(self.letter.get_absolute_url()).status_code == 404
        with time_machine.travel(self.launch_at + timedelta(minutes=1)):
            # Nobody ran anything: a visitor's request alone finds it public and open.
            page = self.client.get(self.letter.get_absolute_url())
            self.assertContains(page, self.letter.title)
            self.assertContains(page, "Founding Person")
            self.assertContains(page, "Sign the letter")
            with self.captureOnCommitCallbacks(execute=True):
                response = self.client.post(
                    reverse("signatures:sign", kwargs={"slug": self.letter.slug}),
                    sign_data(self.letter, email="public@example.org"),
                )
            assert response.status_code == 302
            public_signature = Signature.objects.get(email="public@example.org")
            assert not public_signature.is_founding
            assert Letter.objects.get(pk=self.letter.pk).status == Letter.Status.FOUNDING

            # The worker's command then makes the status say so.
            call_command("launch_due_letters", stdout=io.StringIO())
        assert Letter.objects.get(pk=self.letter.pk).status == Letter.Status.OPEN

    def test_the_launch_command_leaves_future_launches_alone(self):
        call_command("launch_due_letters", stdout=io.StringIO())
        assert Letter.objects.get(pk=self.letter.pk).status == Letter.Status.FOUNDING

    def test_founding_signatories_are_listed_first_after_notable_at_launch(self):
        later = make_signature(self.letter, Signature.State.APPROVED, full_name="Later Person")
        assert later.approved_at > self.founder.approved_at
        services.launch_letter(letter=self.letter)
        page = self.client.get(reverse("signatures:signatories", kwargs={"slug": self.letter.slug}))
        names = [signature.full_name for signature in page.context["page"].object_list]
        assert names == ["Notable Person", "Founding Person", "Later Person"]
        self.assertContains(page, "founding signatory")

    def test_launching_publishes_the_first_version_of_the_text(self):
        services.launch_letter(letter=self.letter)
        assert self.letter.versions.count() == 1


class FoundingAdminTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.letter = make_letter(status=Letter.Status.FOUNDING)
        for state in (
            Signature.State.SUBMITTED,
            Signature.State.CONFIRMED,
            Signature.State.CONFIRMED,
            Signature.State.APPROVED,
        ):
            make_signature(cls.letter, state, is_founding=True)
        make_signature(cls.letter, Signature.State.APPROVED)  # not founding
        cls.organizer = make_staff()

    def setUp(self):
        self.client.force_login(self.organizer)

    def test_the_admin_shows_how_many_founding_signatures_are_confirmed_and_approved(self):
        changelist = self.client.get(reverse("admin:signatures_letter_changelist"))
        self.assertContains(changelist, "2 confirmed, 1 approved")
        change = self.client.get(reverse("admin:signatures_letter_change", args=[self.letter.pk]))
        self.assertContains(change, "confirmed, awaiting a moderator: <strong>2</strong>", html=False)
        self.assertContains(change, "approved: <strong>1</strong>", html=False)

    def test_an_organizer_creates_an_invitation_and_its_link_works(self):
        response = self.client.post(
            reverse("admin:signatures_invitation_add"),
            {"letter": self.letter.pk, "label": "Shared link for the guild", "max_uses": "50", "expires_at_0": ""},
        )
        assert response.status_code == 302, response.content
        invitation = Invitation.objects.get()
        assert invitation.created_by == self.organizer
        assert len(invitation.nonce) == 64
        change = self.client.get(reverse("admin:signatures_invitation_change", args=[invitation.pk]))
        self.assertContains(change, make_invitation_token(invitation))
        self.client.logout()
        assert self.client.get(invitation_path(invitation)).status_code == 200

    def test_the_launch_action_makes_a_founding_letter_public(self):
        changelist = reverse("admin:signatures_letter_changelist")
        self.client.post(changelist, {"action": "launch_now", "_selected_action": [self.letter.pk]})
        self.letter.refresh_from_db()
        assert self.letter.status == Letter.Status.OPEN
        self.client.logout()
        assert self.client.get(self.letter.get_absolute_url()).status_code == 200


class FoundingInTheLetterAdminTests(TestCase):
    def setUp(self):
        self.organizer = make_staff()
        self.client.force_login(self.organizer)

    def test_making_a_letter_founding_publishes_its_first_text(self):
        letter = make_letter(status=Letter.Status.DRAFT)
        response = save_letter(self.client, letter.pk, status=Letter.Status.FOUNDING)
        assert response.status_code == 302, response.context["adminform"].form.errors
        assert letter.versions.count() == 1

    def test_invitations_are_added_and_revoked_from_the_letter_page(self):
        letter = make_letter(status=Letter.Status.FOUNDING)
        data = change_form_data(self.client, letter.pk)
        data.update({"invitations-0-label": "Agnès", "invitations-0-max_uses": "1", "invitations-TOTAL_FORMS": "1"})
        response = self.client.post(reverse("admin:signatures_letter_change", args=[letter.pk]), data)
        assert response.status_code == 302
        invitation = Invitation.objects.get()
        assert invitation.created_by == self.organizer
        assert invitation.max_uses == 1
        page = self.client.get(reverse("admin:signatures_letter_change", args=[letter.pk]))
        self.assertContains(page, make_invitation_token(invitation))

        data = change_form_data(self.client, letter.pk)
        data["invitations-0-DELETE"] = "on"
        self.client.post(reverse("admin:signatures_letter_change", args=[letter.pk]), data)
        invitation.refresh_from_db()
        assert invitation.revoked_at is not None
        self.client.logout()
        assert self.client.get(invitation_path(invitation)).status_code == 404


needs_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite serialises writers, so it cannot show a race; the invitation's row lock is tested on PostgreSQL.",
)


@needs_postgres
class ConcurrentInvitationTests(TransactionTestCase):
    def test_a_one_use_link_admits_exactly_one_of_several_simultaneous_signers(self):
        letter = make_letter(status=Letter.Status.FOUNDING)
        invitation = services.create_invitation(letter=letter, label="Just one", created_by=None, max_uses=1)
        url = invitation_path(invitation, "signatures:invitation_sign")
        threads_count = 6
        barrier = threading.Barrier(threads_count)
        errors: list[BaseException] = []

        def submit(n: int) -> None:
            try:
                barrier.wait()
                Client().post(url, sign_data(letter, email=f"racer{n}@example.org"))
            except BaseException as exc:
                errors.append(exc)
            finally:
                connections.close_all()

        threads = [threading.Thread(target=submit, args=(n,)) for n in range(threads_count)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)

        assert errors == []
        assert Signature.objects.filter(letter=letter).count() == 1
        assert Invitation.objects.get(pk=invitation.pk).use_count == 1


class LaunchTaskTests(TestCase):
    def test_the_worker_task_launches_due_letters(self):
        letter = make_letter(status=Letter.Status.FOUNDING, launch_at=timezone.now() - timedelta(minutes=1))
        assert tasks.launch_due_letters.call() == 1
        assert Letter.objects.get(pk=letter.pk).status == Letter.Status.OPEN

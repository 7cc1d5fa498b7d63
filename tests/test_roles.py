"""
Who may do what in the admin, asked over HTTP as each role: moderators view
and moderate signatures and nothing else; superusers manage letters and people.
"""

from __future__ import annotations

import importlib

from django.apps import apps
from django.contrib.auth.models import Group, Permission
from django.test import TestCase
from django.urls import reverse

from signatures.models import Letter, Signature, WatchlistEntry
from tests.admin_helpers import changelist_url, make_moderator, run_action
from tests.factories import make_letter, make_signature, make_staff

moderators_migration = importlib.import_module("signatures.migrations.0006_create_moderators_group")


def action_names(response) -> set[str]:
    """The actions offered in the changelist's menu (none at all: no menu)."""
    form = response.context["action_form"]
    if form is None:
        return set()
    return {name for name, _label in form.fields["action"].choices if name}


class ModeratorsGroupTests(TestCase):
    def test_the_group_holds_exactly_the_moderation_permissions(self):
        group = Group.objects.get(name="Moderators")
        codenames = set(group.permissions.values_list("codename", flat=True))
        assert codenames == {
            "view_signature",
            "moderate_signature",
            "view_letter",
            "view_profession",
            "view_surgeflag",
            "view_invalidationrun",
        }

    def test_the_data_migration_can_be_reversed_and_replayed(self):
        moderators_migration.delete_moderators_group(apps, None)
        assert not Group.objects.filter(name="Moderators").exists()
        moderators_migration.create_moderators_group(apps, None)
        assert Group.objects.get(name="Moderators").permissions.count() == 6


class ModeratorTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.moderator = make_moderator()
        cls.letter = make_letter()
        cls.waiting = make_signature(cls.letter, Signature.State.CONFIRMED, full_name="Waiting Person")
        cls.watch = WatchlistEntry.objects.create(name="Famous Person")

    def setUp(self):
        self.client.force_login(self.moderator)

    def test_a_moderator_works_the_queue(self):
        response = self.client.get(changelist_url())
        assert response.status_code == 200
        self.assertContains(response, "Waiting Person")
        assert action_names(response) == {
            "approve",
            "verify_approve_and_mark_notable",
            "reject",
            "mark_verified",
            "mark_notable",
            "unmark",
            "release_held_emails",
        } | (action_names(response) & {"reject_as_fraud"})
        run_action(self.client, "approve", [self.waiting.pk])
        self.waiting.refresh_from_db()
        assert self.waiting.state == Signature.State.APPROVED
        assert self.waiting.moderated_by == self.moderator

    def test_a_moderator_sees_a_signature_but_cannot_edit_it(self):
        url = reverse("admin:signatures_signature_change", args=[self.waiting.pk])
        page = self.client.get(url)
        assert page.status_code == 200
        self.assertNotContains(page, 'name="_save"')
        response = self.client.post(url, {"full_name": "Changed"})
        assert response.status_code == 403
        self.waiting.refresh_from_db()
        assert self.waiting.full_name == "Waiting Person"

    def test_a_moderator_cannot_delete_signatures(self):
        url = reverse("admin:signatures_signature_delete", args=[self.waiting.pk])
        assert self.client.post(url, {"post": "yes"}).status_code == 403
        response = run_action(self.client, "delete_selected", [self.waiting.pk], post="yes")
        assert Signature.objects.filter(pk=self.waiting.pk).exists()
        assert response.status_code in (200, 302)

    def test_a_moderator_cannot_edit_add_or_pause_letters(self):
        change_url = reverse("admin:signatures_letter_change", args=[self.letter.pk])
        page = self.client.get(change_url)
        assert page.status_code == 200  # the overview is for moderators too
        self.assertNotContains(page, 'name="_save"')
        assert self.client.post(change_url, {"title": "Hijacked"}).status_code == 403
        assert self.client.get(reverse("admin:signatures_letter_add")).status_code == 403
        delete_url = reverse("admin:signatures_letter_delete", args=[self.letter.pk])
        assert self.client.post(delete_url, {"post": "yes"}).status_code == 403
        letters = self.client.get(reverse("admin:signatures_letter_changelist"))
        assert "pause_signing" not in action_names(letters)
        self.client.post(
            reverse("admin:signatures_letter_changelist"),
            {"action": "pause_signing", "_selected_action": [self.letter.pk], "index": "0"},
        )
        self.letter.refresh_from_db()
        assert self.letter.title != "Hijacked"
        assert not self.letter.is_paused

    def test_a_moderator_cannot_see_users_or_groups(self):
        for name in ("admin:auth_user_changelist", "admin:auth_group_changelist", "admin:auth_user_add"):
            assert self.client.get(reverse(name)).status_code == 403, name

    def test_a_moderator_cannot_see_or_change_the_watchlist(self):
        assert self.client.get(reverse("admin:signatures_watchlistentry_changelist")).status_code == 403
        assert self.client.get(reverse("admin:signatures_watchlistentry_add")).status_code == 403
        change_url = reverse("admin:signatures_watchlistentry_change", args=[self.watch.pk])
        assert self.client.post(change_url, {"name": "Someone Else"}).status_code == 403
        self.watch.refresh_from_db()
        assert self.watch.name == "Famous Person"

    def test_a_moderator_cannot_export_email_addresses(self):
        assert self.client.get(reverse("admin:signatures_signature_export")).status_code == 403
        assert "export_selected" not in action_names(self.client.get(changelist_url()))

    def test_a_moderator_cannot_manage_digest_subscriptions_of_others(self):
        assert self.client.get(reverse("admin:signatures_digestsubscription_changelist")).status_code == 403


class StaffWithoutRoleTests(TestCase):
    def test_staff_without_the_group_cannot_reach_the_queue(self):
        staff = make_staff("newcomer", superuser=False)
        self.client.force_login(staff)
        assert self.client.get(changelist_url()).status_code == 403
        assert self.client.get(reverse("admin:signatures_signature_invalidate")).status_code == 403

    def test_staff_with_view_only_cannot_run_moderation_actions(self):

        staff = make_staff("viewer", superuser=False)
        staff.user_permissions.add(Permission.objects.get(codename="view_signature"))
        letter = make_letter()
        waiting = make_signature(letter, Signature.State.CONFIRMED)
        self.client.force_login(staff)
        response = self.client.get(changelist_url())
        assert response.status_code == 200
        assert "approve" not in action_names(response)
        run_action(self.client, "approve", [waiting.pk])
        waiting.refresh_from_db()
        assert waiting.state == Signature.State.CONFIRMED


class AnonymousTests(TestCase):
    def test_anonymous_visitors_are_sent_to_the_login_page(self):
        letter = make_letter()
        for url in (
            changelist_url(),
            reverse("admin:signatures_signature_export"),
            reverse("admin:signatures_signature_invalidate"),
            reverse("admin:signatures_letter_change", args=[letter.pk]),
        ):
            response = self.client.get(url)
            assert response.status_code == 302, url
            assert reverse("admin:login") in response["Location"]


class SuperuserTests(TestCase):
    def test_a_superuser_manages_letters_and_people(self):
        self.client.force_login(make_staff())
        response = self.client.post(
            reverse("admin:signatures_letter_changelist"),
            {"action": "pause_signing", "_selected_action": [make_letter().pk], "index": "0"},
        )
        assert response.status_code == 302
        assert Letter.objects.get().is_paused
        assert self.client.get(reverse("admin:auth_user_changelist")).status_code == 200
        assert self.client.get(reverse("admin:signatures_watchlistentry_add")).status_code == 200

"""Organizers keep the watchlist in the admin: aliases, how to verify, and one entry per name."""

from __future__ import annotations

from django.test import TestCase
from django.urls import reverse

from signatures.models import WatchlistEntry
from tests.factories import make_staff

ADD = "admin:signatures_watchlistentry_add"


def entry_form(**fields: str) -> dict[str, str]:
    return {"name": "", "note": "", "aliases": "", "verification_note": "", **fields}


class WatchlistAdminTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.organizer = make_staff()
        cls.existing = WatchlistEntry.objects.create(name="Guillermo del Toro")

    def setUp(self):
        self.client.force_login(self.organizer)

    def test_an_entry_is_added_with_its_aliases_and_how_it_will_be_verified(self):
        response = self.client.post(
            reverse(ADD),
            entry_form(
                name="Björk Guðmundsdóttir",
                aliases="Björk\nBjork Gudmundsdottir\n\n",
                verification_note="Through her management, then her official account.",
            ),
        )

        self.assertRedirects(response, reverse("admin:signatures_watchlistentry_changelist"))
        entry = WatchlistEntry.objects.get(name="Björk Guðmundsdóttir")
        assert entry.alias_list() == ["Björk", "Bjork Gudmundsdottir"]
        assert entry.verification_note == "Through her management, then her official account."

    def test_the_same_name_in_other_case_or_accents_is_a_form_error_not_a_server_error(self):
        for duplicate in ("GUILLERMO DEL TORO", "Guillermo del Toro", "Guillérmo  del Toro"):
            response = self.client.post(reverse(ADD), entry_form(name=duplicate))

            assert response.status_code == 200
            self.assertContains(response, "An entry for this name already exists.")
        assert WatchlistEntry.objects.count() == 1

    def test_an_entry_saved_again_under_its_own_name_is_not_its_own_duplicate(self):
        change = reverse("admin:signatures_watchlistentry_change", args=[self.existing.pk])

        response = self.client.post(change, entry_form(name="Guillermo del Toro", aliases="G. del Toro"))

        self.assertRedirects(response, reverse("admin:signatures_watchlistentry_changelist"))
        self.existing.refresh_from_db()
        assert self.existing.alias_list() == ["G. del Toro"]

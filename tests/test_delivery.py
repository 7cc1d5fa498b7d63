"""
The delivery record: organizers record when and how the letter reached its
addressee, with the count and text version at that moment, and print a
document of the letter and its approved, listed signatories by profession.
"""

from __future__ import annotations

import re
from datetime import timedelta

from django.test import TestCase
from django.urls import reverse
from django.utils import timezone

from signatures import services
from signatures.models import Letter, Profession, Signature
from signatures.tokens import Purpose, make_token
from tests.factories import make_letter, make_signature, make_staff
from tests.letter_admin import save_letter

State = Signature.State


class DeliveryDocumentTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.letter = make_letter(body="Protect **our** work.")
        cls.version = services.ensure_letter_version(letter=cls.letter)
        director, composer = cls.letter.professions.all()
        cls.listed = {
            make_signature(cls.letter, State.APPROVED, full_name="Ada Director", profession=director).full_name,
            make_signature(cls.letter, State.APPROVED, full_name="Ben Director", profession=director).full_name,
            make_signature(cls.letter, State.APPROVED, full_name="Cleo Composer", profession=composer).full_name,
            make_signature(cls.letter, State.APPROVED, full_name="Dev Without", profession=None).full_name,
        }
        make_signature(cls.letter, State.APPROVED, full_name="Quiet Unlisted", wants_listing=False)
        make_signature(cls.letter, State.CONFIRMED, full_name="Waiting Moderation")
        make_signature(cls.letter, State.SUBMITTED, full_name="Never Confirmed")
        make_signature(cls.letter, State.REJECTED, full_name="Rejected Person")
        leaver = make_signature(cls.letter, State.APPROVED, full_name="Person Who Left")
        services.withdraw_signature(token=make_token(leaver, Purpose.WITHDRAW))
        make_signature(make_letter(), State.APPROVED, full_name="Other Letter Person")
        cls.url = reverse("signatures:delivery", kwargs={"slug": cls.letter.slug})
        cls.organizer = make_staff()

    def names_on(self, response) -> set[str]:
        return set(re.findall(r'<span class="signatory-name">([^<]+)</span>', response.content.decode()))

    def test_the_delivery_page_lists_exactly_the_approved_listed_signatories(self):
        self.client.force_login(self.organizer)
        page = self.client.get(self.url)
        assert page.status_code == 200
        assert self.names_on(page) == self.listed

    def test_signatories_are_grouped_by_profession_in_the_organizers_order(self):
        self.client.force_login(self.organizer)
        html = self.client.get(self.url).content.decode()
        headings = re.findall(r"<h3>([^<]+?) <span", html)
        assert headings == ["Director", "Composer", "Other"]
        assert html.index("Ada Director") < html.index("Ben Director") < html.index("Cleo Composer")

    def test_it_shows_the_letter_the_version_hash_and_the_count(self):
        self.client.force_login(self.organizer)
        page = self.client.get(self.url)
        self.assertContains(page, "Protect <strong>our</strong> work.", html=False)
        self.assertContains(page, self.version.content_hash)
        self.assertContains(page, '<dd class="delivery-count">5</dd>', html=False)  # unlisted ones count
        self.assertContains(page, "css/delivery.css")  # the print stylesheet
        self.assertContains(page, "Draft: not yet delivered.")

    def test_before_delivery_only_staff_may_see_it(self):
        assert self.client.get(self.url).status_code == 404

    def test_once_delivered_it_is_public_and_frozen_at_delivery(self):
        delivered_at = timezone.now()
        services.record_letter_delivery(
            letter=self.letter, delivered_at=delivered_at, delivered_how="Handed to the minister's office"
        )
        self.letter.refresh_from_db()
        assert self.letter.delivered_count == 5
        assert self.letter.delivered_version == self.version

        # Signed and approved after delivery: not in what was delivered.
        later = make_signature(self.letter, State.APPROVED, full_name="After Delivery")
        Signature.objects.filter(pk=later.pk).update(approved_at=delivered_at + timedelta(minutes=5))

        page = self.client.get(self.url)
        assert page.status_code == 200
        assert self.names_on(page) == self.listed
        self.assertContains(page, "Handed to the minister&#x27;s office")
        self.assertContains(page, '<dd class="delivery-count">5</dd>', html=False)
        letter_page = self.client.get(self.letter.get_absolute_url())
        self.assertContains(letter_page, self.url)

    def test_an_organizer_records_the_delivery_in_the_admin(self):
        self.client.force_login(self.organizer)
        change = self.client.get(reverse("admin:signatures_letter_change", args=[self.letter.pk]))
        self.assertContains(change, "delivered_how")
        self.assertContains(change, self.url)
        # The admin's save calls the same service; check the record it makes.
        letter = Letter.objects.get(pk=self.letter.pk)
        services.record_letter_delivery(letter=letter, delivered_at=timezone.now(), delivered_how="By post")
        change = self.client.get(reverse("admin:signatures_letter_change", args=[self.letter.pk]))
        self.assertContains(change, "5 signatures delivered, text version 1")

    def test_a_profession_added_later_does_not_disturb_the_grouping(self):
        Profession.objects.create(letter=self.letter, name="Editor", position=5)
        self.client.force_login(self.organizer)
        assert self.names_on(self.client.get(self.url)) == self.listed


class DeliveryInTheAdminTests(TestCase):
    def test_saving_the_delivery_fields_records_the_count_and_the_version(self):
        letter = make_letter()
        make_signature(letter, State.APPROVED)
        make_signature(letter, State.APPROVED, wants_listing=False)
        self.client.force_login(make_staff())
        response = save_letter(
            self.client,
            letter.pk,
            delivered_at_0="2026-11-20",
            delivered_at_1="10:30:00",
            delivered_how="Handed over at the ministry",
        )
        assert response.status_code == 302, response.context["adminform"].form.errors
        letter.refresh_from_db()
        assert letter.delivered_how == "Handed over at the ministry"
        assert letter.delivered_count == 2
        assert letter.delivered_version.number == 1
        assert self.client.get(reverse("signatures:delivery", args=[letter.slug])).status_code == 200

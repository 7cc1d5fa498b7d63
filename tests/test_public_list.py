from __future__ import annotations

from django.test import TestCase, override_settings
from django.urls import reverse

from signatures import services
from signatures.models import Signature
from tests.factories import make_letter, make_signature


class PublicListTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.letter = make_letter()
        cls.listed = make_signature(cls.letter, Signature.State.APPROVED, full_name="Listed Person")
        cls.unlisted = make_signature(
            cls.letter, Signature.State.APPROVED, full_name="Quiet Person", wants_listing=False
        )
        cls.pending = make_signature(cls.letter, Signature.State.CONFIRMED, full_name="Waiting Person")
        cls.unconfirmed = make_signature(cls.letter, Signature.State.SUBMITTED, full_name="Unconfirmed Person")
        cls.rejected = make_signature(cls.letter, Signature.State.REJECTED, full_name="Rejected Person")
        cls.list_url = reverse("signatures:signatories", kwargs={"slug": cls.letter.slug})

    def test_unlisted_signatures_are_counted_but_never_named(self):
        for url in (self.letter.get_absolute_url(), self.list_url):
            page = self.client.get(url)
            self.assertContains(page, "<strong>2</strong> signatures")
            self.assertContains(page, "Listed Person")
            self.assertNotContains(page, "Quiet Person")

    def test_only_approved_signatures_are_shown_or_counted(self):
        for url in (self.letter.get_absolute_url(), self.list_url):
            page = self.client.get(url)
            for name in ("Waiting Person", "Unconfirmed Person", "Rejected Person"):
                self.assertNotContains(page, name)

    def test_notable_signatories_come_first_then_newest(self):
        notable = make_signature(self.letter, Signature.State.APPROVED, full_name="Famous Person")
        make_signature(self.letter, Signature.State.APPROVED, full_name="Newest Person")
        services.mark_notable(signature_ids=[notable.pk], moderator=None)
        names = [s.full_name for s in self.client.get(self.list_url).context["page"].object_list]
        assert names == ["Famous Person", "Newest Person", "Listed Person"]

    def test_verified_signatories_carry_a_mark(self):
        services.mark_verified(signature_ids=[self.listed.pk], moderator=None)
        self.assertContains(self.client.get(self.list_url), "verified")

    @override_settings(SIGNATURES_PAGE_SIZE=2)
    def test_the_list_is_paginated(self):
        for n in range(3):
            make_signature(self.letter, Signature.State.APPROVED, full_name=f"Extra {n}")
        first = self.client.get(self.list_url)
        assert len(first.context["page"].object_list) == 2
        self.assertContains(first, 'rel="next"')
        last = self.client.get(self.list_url, {"page": 2})
        assert len(last.context["page"].object_list) == 2

    def test_the_goal_shows_progress(self):
        letter = make_letter(goal=4)
        make_signature(letter, Signature.State.APPROVED)
        page = self.client.get(letter.get_absolute_url())
        self.assertContains(page, "of a goal of 4")
        self.assertContains(page, 'value="25"')


class HomePageTests(TestCase):
    def test_a_single_open_letter_is_shown_directly(self):
        letter = make_letter()
        response = self.client.get(reverse("signatures:home"))
        self.assertRedirects(response, letter.get_absolute_url())

    def test_several_letters_are_listed(self):
        first = make_letter(title="First letter")
        second = make_letter(title="Second letter")
        draft = make_letter(title="Secret draft", status="draft")
        page = self.client.get(reverse("signatures:home"))
        self.assertContains(page, first.title)
        self.assertContains(page, second.title)
        self.assertNotContains(page, draft.title)

"""
Rough edges found in review (issue 17, part 6), each pinned by what a reader,
a signer or an organizer sees. Search folding is in test_public_list.py; the
phone-width check is in tests/browser/test_rough_edges_browser.py.
"""

from __future__ import annotations

from django.contrib.messages import get_messages
from django.core.cache import cache
from django.test import TestCase, override_settings
from django.urls import reverse

from signatures.models import Profession, Signature
from signatures.tokens import Purpose, make_token
from tests.factories import make_letter, make_signature, make_staff, sign_data
from tests.letter_admin import change_form_data
from tests.test_public_list import _names
from tests.test_query_counts import LOCAL_CACHE


class BodyHeadingTests(TestCase):
    def test_markdown_headings_in_the_body_render_one_level_below_the_title(self):
        letter = make_letter(title="Keep copyright", body="# Why we write\n\nBecause.\n\n## What we ask\n\nConsent.")
        page = self.client.get(letter.get_absolute_url())
        self.assertContains(page, "<h2>Why we write</h2>", html=True)
        self.assertContains(page, "<h3>What we ask</h3>", html=True)
        self.assertContains(page, "<h1>", count=1)


class AdminWarnsAboutARepeatedTitleTests(TestCase):
    def setUp(self):
        self.client.force_login(make_staff())
        self.letter = make_letter(title="Our work is not your training data", body="We ask you to act.")

    def save_body(self, body: str):
        data = change_form_data(self.client, self.letter.pk)
        data["body"] = body
        return self.client.post(reverse("admin:signatures_letter_change", args=[self.letter.pk]), data, follow=True)

    def test_a_body_that_opens_with_the_title_as_a_heading_gets_a_warning(self):
        response = self.save_body("# Our work is not your  training data\n\nWe ask you to act.")
        messages = [str(m) for m in get_messages(response.wsgi_request)] or [
            str(m) for m in response.context["messages"]
        ]
        assert any("repeats the title" in m for m in messages), messages

    def test_a_body_with_another_heading_saves_without_a_warning(self):
        response = self.save_body("# Why we write\n\nWe ask you to act.")
        self.assertNotContains(response, "repeats the title")


class ProfessionOrderAndOtherTests(TestCase):
    def setUp(self):
        self.client.force_login(make_staff())
        self.letter = make_letter(slug="professions-typed")
        self.letter.professions.all().delete()

    def add_professions(self, *rows: tuple[str, str]):
        data = change_form_data(self.client, self.letter.pk)
        prefix = "professions"
        for index, (name, position) in enumerate(rows):
            data[f"{prefix}-{index}-name"] = name
            data[f"{prefix}-{index}-position"] = position
        response = self.client.post(reverse("admin:signatures_letter_change", args=[self.letter.pk]), data)
        assert response.status_code == 302, response.content.decode()[:2000]

    def test_professions_entered_without_positions_keep_the_order_typed(self):
        self.add_professions(("Screenwriter", ""), ("Actor", ""), ("Composer", ""))
        names = list(Profession.objects.filter(letter=self.letter).values_list("name", flat=True))
        assert names == ["Screenwriter", "Actor", "Composer"]
        page = self.client.get(self.letter.get_absolute_url()).content.decode()
        assert page.index("Screenwriter") < page.index("Actor") < page.index("Composer")

    def test_an_organizers_own_other_is_one_choice_with_the_built_in_other(self):
        self.add_professions(("Actor", ""), ("Other", ""))
        self.client.logout()
        page = self.client.get(self.letter.get_absolute_url())
        assert page.content.decode().count(">Other") == 1
        self.assertContains(page, "Other (please give your title)")

        with self.captureOnCommitCallbacks(execute=True):
            self.client.post(
                reverse("signatures:sign", kwargs={"slug": self.letter.slug}),
                sign_data(self.letter, profession="other", title="Foley artist"),
            )
        signature = Signature.objects.get(letter=self.letter)
        assert signature.profession.name == "Other"
        assert signature.title == "Foley artist"

    def test_the_list_hides_profession_filters_that_would_show_nobody(self):
        actor = Profession.objects.create(letter=self.letter, name="Actor", position=0)
        Profession.objects.create(letter=self.letter, name="Other", position=1)
        make_signature(self.letter, Signature.State.APPROVED, profession=actor, full_name="Listed Actor")
        page = self.client.get(reverse("signatures:signatories", kwargs={"slug": self.letter.slug}))
        self.assertContains(page, "Actor</a> (1)")
        self.assertNotContains(page, "Other</a> (0)")


class ListOnAPhoneTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.letter = make_letter(title="Keep copyright")
        for name in ("Zoë Zed", "Ada Ames", "Mia Moss"):
            make_signature(cls.letter, Signature.State.APPROVED, full_name=name)
        cls.url = reverse("signatures:signatories", kwargs={"slug": cls.letter.slug})

    def names(self, response) -> list[str]:
        return _names(response)

    def test_the_profession_chips_fold_into_a_disclosure(self):
        page = self.client.get(self.url)
        self.assertContains(page, '<details class="profession-filter">')
        self.assertContains(page, "<summary>")

    def test_an_a_to_z_order_lists_names_alphabetically(self):
        newest_first = self.client.get(self.url)
        assert self.names(newest_first) == ["Mia Moss", "Ada Ames", "Zoë Zed"]
        a_to_z = self.client.get(self.url, {"order": "name"})
        assert self.names(a_to_z) == ["Ada Ames", "Mia Moss", "Zoë Zed"]
        self.assertContains(newest_first, 'href="?order=name"')

    @override_settings(SIGNATURES_PAGE_SIZE=2)
    def test_the_a_to_z_order_pages_forward_and_back(self):
        first = self.client.get(self.url, {"order": "name"})
        assert self.names(first) == ["Ada Ames", "Mia Moss"]
        next_url = first.context["next_url"]
        second = self.client.get(self.url + next_url)
        assert self.names(second) == ["Zoë Zed"]
        back = self.client.get(self.url + second.context["previous_url"])
        assert self.names(back) == ["Ada Ames", "Mia Moss"]

    def test_the_list_has_a_meta_description(self):
        self.assertContains(
            self.client.get(self.url),
            '<meta name="description" content="The 3 named signatories of the open letter “Keep copyright”, '
            'searchable by name and profession.">',
        )


@override_settings(SIGNATURES_PAGE_CACHE_SECONDS=30, CACHES=LOCAL_CACHE)
class WithdrawalDropsKeptPagesTests(TestCase):
    """A withdrawn name leaves the server's kept pages at once, not when they expire."""

    def setUp(self):
        cache.clear()
        self.letter = make_letter()
        self.signature = make_signature(self.letter, Signature.State.APPROVED, full_name="Withdrawn Person")
        self.list_url = reverse("signatures:signatories", kwargs={"slug": self.letter.slug})

    def test_the_letter_page_and_the_list_stop_showing_the_name_once_withdrawn(self):
        for url in (self.letter.get_absolute_url(), self.list_url):
            self.assertContains(self.client.get(url), "Withdrawn Person")
        # Kept: a second visit is served from the cache.
        with self.assertNumQueries(0):
            self.assertContains(self.client.get(self.list_url), "Withdrawn Person")

        path = reverse("signatures:withdraw", kwargs={"token": make_token(self.signature, Purpose.WITHDRAW)})
        with self.captureOnCommitCallbacks(execute=True):
            assert self.client.post(path).status_code == 200

        for url in (self.letter.get_absolute_url(), self.list_url):
            self.assertNotContains(self.client.get(url), "Withdrawn Person")

    def test_another_letters_kept_pages_stay_kept(self):
        other = make_letter(slug="another-letter")
        other_list = reverse("signatures:signatories", kwargs={"slug": other.slug})
        self.client.get(other_list)
        path = reverse("signatures:withdraw", kwargs={"token": make_token(self.signature, Purpose.WITHDRAW)})
        with self.captureOnCommitCallbacks(execute=True):
            self.client.post(path)
        with self.assertNumQueries(0):
            self.client.get(other_list)

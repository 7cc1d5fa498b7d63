from __future__ import annotations

from importlib import import_module

from django.apps import apps
from django.test import TestCase, override_settings
from django.urls import reverse

from signatures import services
from signatures.models import LetterTranslation, Signature, WatchlistEntry
from signatures.pagination import _ORDER_FORWARD
from signatures.text import NAME_KEY_MAX_LENGTH, name_key
from tests.factories import make_letter, make_signature
from tests.test_query_counts import LOCAL_CACHE, PublicPagesQueryCountTests


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
        second = self.client.get(self.list_url + first.context["next_url"])
        assert len(second.context["page"].object_list) == 2
        self.assertContains(second, 'rel="prev"')

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


def _names(response) -> list[str]:
    return [s.full_name for s in response.context["page"].object_list]


def _follow(client, url: str, link: str = "next_url", limit: int = 100) -> list[list[str]]:
    """Every page from `url` on, following the page's `link` the way a reader clicks "Next"."""
    pages = []
    response = client.get(url)
    while True:
        assert response.status_code == 200
        pages.append(_names(response))
        target = response.context[link]
        if not target or len(pages) > limit:
            return pages
        response = client.get(url.split("?", maxsplit=1)[0] + target)


@override_settings(SIGNATURES_PAGE_SIZE=3)
class KeysetPaginationTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.letter = make_letter()
        cls.signatures = [
            make_signature(cls.letter, Signature.State.APPROVED, full_name=f"Person {n:02}") for n in range(11)
        ]
        # Ties on approved_at are broken by id: give several the same instant.
        tie = cls.signatures[0].approved_at
        Signature.objects.filter(pk__in=[s.pk for s in cls.signatures[3:7]]).update(approved_at=tie)
        services.mark_notable(signature_ids=[cls.signatures[5].pk], moderator=None)
        cls.list_url = reverse("signatures:signatories", kwargs={"slug": cls.letter.slug})
        cls.expected = [s.full_name for s in Signature.objects.listed().filter(letter=cls.letter)]

    def test_following_next_shows_every_listed_signatory_once_in_order(self):
        pages = _follow(self.client, self.list_url)
        assert [len(p) for p in pages] == [3, 3, 3, 2]
        assert [name for page in pages for name in page] == self.expected
        assert self.expected[0] == "Person 05"  # the notable one first

    def test_following_previous_from_the_last_page_walks_back_the_same_pages(self):
        forward = _follow(self.client, self.list_url)
        last = self.client.get(self.list_url)
        while last.context["next_url"]:
            last = self.client.get(self.list_url + last.context["next_url"])
        pages = [_names(last)]
        response = last
        while response.context["previous_url"]:
            response = self.client.get(self.list_url + response.context["previous_url"])
            pages.append(_names(response))
        assert pages[::-1] == forward

    def test_a_page_link_is_a_permalink(self):
        first = self.client.get(self.list_url)
        link = self.list_url + first.context["next_url"]
        again = self.client.get(link)
        # A new signature arrives at the top: the linked page still starts where it did.
        make_signature(self.letter, Signature.State.APPROVED, full_name="Newcomer")
        assert _names(self.client.get(link)) == _names(again)
        assert "after=" in link

    def test_a_new_signature_does_not_repeat_or_skip_anyone_on_later_pages(self):
        first = self.client.get(self.list_url)
        make_signature(self.letter, Signature.State.APPROVED, full_name="Newcomer")
        rest = _follow(self.client, self.list_url + first.context["next_url"])
        seen = _names(first) + [name for page in rest for name in page]
        assert seen == self.expected

    def test_a_malformed_cursor_shows_the_first_page(self):
        for junk in ("%%%", "bm9wZQ", "MjIuMS4x", "x" * 500, "MDAuMS4"):
            response = self.client.get(self.list_url, {"after": junk})
            assert response.status_code == 200
            assert _names(response) == self.expected[:3]

    def test_the_cursor_does_not_show_the_signature_values_in_clear(self):
        first = self.client.get(self.list_url)
        cursor = first.context["next_url"].split("after=")[1]
        assert cursor.isascii()
        assert "=" not in cursor
        assert "Person" not in cursor

    def test_the_cursor_follows_the_public_order(self):

        assert _ORDER_FORWARD == Signature.PUBLIC_ORDER


class SearchAndFilterTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.letter = make_letter()
        cls.director, cls.composer = cls.letter.professions.all()
        make_signature(cls.letter, Signature.State.APPROVED, full_name="José López", profession=cls.director)
        make_signature(cls.letter, Signature.State.APPROVED, full_name="Ana LOPEZ", profession=cls.composer)
        make_signature(cls.letter, Signature.State.APPROVED, full_name="Žofie Dvořák", profession=cls.composer)
        make_signature(cls.letter, Signature.State.APPROVED, full_name="Jürgen Groß", profession=cls.director)
        make_signature(
            cls.letter,
            Signature.State.APPROVED,
            full_name="Hidden Lopez",
            profession=cls.director,
            wants_listing=False,
        )
        make_signature(cls.letter, Signature.State.CONFIRMED, full_name="Pending Lopez", profession=cls.director)
        cls.list_url = reverse("signatures:signatories", kwargs={"slug": cls.letter.slug})

    def test_search_ignores_case_and_accents(self):
        for query in ("lopez", "LÓPEZ", "López", "  lópez  "):
            assert sorted(_names(self.client.get(self.list_url, {"q": query}))) == ["Ana LOPEZ", "José López"]

    def test_search_matches_part_of_a_name_in_any_script(self):
        assert _names(self.client.get(self.list_url, {"q": "dvorak"})) == ["Žofie Dvořák"]
        # ß folds to ss, so either spelling finds the name.
        assert _names(self.client.get(self.list_url, {"q": "gross"})) == ["Jürgen Groß"]
        assert _names(self.client.get(self.list_url, {"q": "JÜRGEN GROß"})) == ["Jürgen Groß"]

    def test_search_never_finds_hidden_signatures(self):
        names = _names(self.client.get(self.list_url, {"q": "lopez"}))
        assert "Hidden Lopez" not in names
        assert "Pending Lopez" not in names

    def test_search_that_matches_nobody_says_so(self):
        response = self.client.get(self.list_url, {"q": "nobody-at-all"})
        self.assertContains(response, "No listed signatory matches.")

    def test_filter_by_profession(self):
        response = self.client.get(self.list_url, {"profession": self.composer.pk})
        assert sorted(_names(response)) == ["Ana LOPEZ", "Žofie Dvořák"]

    def test_filter_and_search_combine(self):
        response = self.client.get(self.list_url, {"profession": self.director.pk, "q": "lopez"})
        assert _names(response) == ["José López"]

    def test_an_unknown_profession_shows_everyone(self):
        other_letter = make_letter()
        foreign = other_letter.professions.first()
        for value in (foreign.pk, "nope", "999999"):
            assert len(_names(self.client.get(self.list_url, {"profession": value}))) == 4

    def test_each_profession_shows_its_listed_count_from_the_counters(self):
        response = self.client.get(self.list_url)
        counts = {item["profession"].name: item["count"] for item in response.context["profession_counts"]}
        assert counts == {"Director": 2, "Composer": 2}
        self.assertContains(response, f'href="?profession={self.composer.pk}"')

    def test_filter_links_and_pages_keep_the_search(self):
        response = self.client.get(self.list_url, {"q": "lopez"})
        self.assertContains(response, f'href="?q=lopez&amp;profession={self.composer.pk}"')
        self.assertContains(response, 'value="lopez"')

    @override_settings(SIGNATURES_PAGE_SIZE=1)
    def test_next_links_keep_the_filter_and_search(self):
        response = self.client.get(self.list_url, {"profession": self.director.pk, "q": "o"})
        next_url = response.context["next_url"]
        assert f"profession={self.director.pk}" in next_url
        assert "q=o" in next_url
        second = self.client.get(self.list_url + next_url)
        assert sorted(_names(response) + _names(second)) == ["José López", "Jürgen Groß"]

    def test_the_search_form_works_without_javascript(self):
        response = self.client.get(self.list_url)
        self.assertContains(response, '<form method="get" class="list-search" role="search">')
        self.assertContains(response, 'name="q"')
        # Filters and pages are plain links: nothing needs a script.
        self.assertContains(response, f'href="?profession={self.director.pk}"')


# A Turkish name with the dotless i, written as escapes so it cannot be mistaken for an i.
TURKISH_NAME = "I\u015f\u0131k Kad\u0131n"


class SearchFoldsLettersWithoutAccentsTests(TestCase):
    """Letters that are not a base letter plus an accent (ł, ø, đ, æ, œ, ß, þ, dotless i) are found as plain Latin."""

    NAMES = (
        "Łukasz Wiśniewski",
        "Søren Ødegård",
        "Đorđe Balašević",
        "Æsa Þórsdóttir",
        "Œdipe Roi",
        TURKISH_NAME,
        "Jürgen Groß",
    )

    @classmethod
    def setUpTestData(cls):
        cls.letter = make_letter()
        for name in cls.NAMES:
            make_signature(cls.letter, Signature.State.APPROVED, full_name=name)
        cls.list_url = reverse("signatures:signatories", kwargs={"slug": cls.letter.slug})

    def test_plain_latin_finds_each_name(self):
        expected = {
            "lukasz": "Łukasz Wiśniewski",
            "soren odegard": "Søren Ødegård",
            "dorde": "Đorđe Balašević",
            "aesa thorsdottir": "Æsa Þórsdóttir",
            "oedipe": "Œdipe Roi",
            "isik": TURKISH_NAME,
            "gross": "Jürgen Groß",
        }
        for query, name in expected.items():
            assert _names(self.client.get(self.list_url, {"q": query})) == [name], query

    def test_the_name_as_written_still_finds_it(self):
        for name in self.NAMES:
            assert _names(self.client.get(self.list_url, {"q": name.upper()})) == [name], name

    def test_a_folded_key_always_fits_its_column(self):

        long_name = "Æ" * 120
        signature = make_signature(self.letter, Signature.State.APPROVED, full_name=long_name)
        assert len(name_key(long_name)) == NAME_KEY_MAX_LENGTH
        assert Signature.objects.get(pk=signature.pk).name_key == "ae" * 60


class NameKeyMigrationTests(TestCase):
    """The data migration recomputes keys stored before letters were folded, and undoes it."""

    def setUp(self):

        self.migration = import_module("signatures.migrations.0013_name_key_folds_latin_letters")
        letter = make_letter()
        self.old = make_signature(letter, Signature.State.APPROVED, full_name="Łukasz Ødegård")
        self.plain = make_signature(letter, Signature.State.APPROVED, full_name="José López")
        self.erased = make_signature(letter, Signature.State.APPROVED, full_name="Æsa Roi")
        # As stored before the change; an erased key stays blank.
        Signature.objects.filter(pk=self.old.pk).update(name_key="łukasz ødegard")
        Signature.objects.filter(pk=self.erased.pk).update(name_key="")
        self.watched = WatchlistEntry.objects.create(name="Łukasz Ødegård")
        WatchlistEntry.objects.filter(pk=self.watched.pk).update(name_key="łukasz ødegard")

    def key(self, model, pk) -> str:
        return model.objects.get(pk=pk).name_key

    def test_forward_folds_old_keys_and_backward_restores_them(self):

        self.migration.fold_latin_letters(apps, None)
        assert self.key(Signature, self.old.pk) == "lukasz odegard"
        assert self.key(WatchlistEntry, self.watched.pk) == "lukasz odegard"
        assert self.key(Signature, self.plain.pk) == "jose lopez"
        assert self.key(Signature, self.erased.pk) == ""
        assert _names(
            self.client.get(reverse("signatures:signatories", args=[self.old.letter.slug]), {"q": "lukasz"})
        ) == ["Łukasz Ødegård"]

        self.migration.unfold_latin_letters(apps, None)
        assert self.key(Signature, self.old.pk) == "łukasz ødegard"
        assert self.key(WatchlistEntry, self.watched.pk) == "łukasz ødegard"
        assert self.key(Signature, self.erased.pk) == ""

    def test_a_watchlist_entry_whose_folded_name_is_already_watched_keeps_its_key(self):

        WatchlistEntry.objects.create(name="Lukasz Odegard")
        self.migration.fold_latin_letters(apps, None)
        assert self.key(WatchlistEntry, self.watched.pk) == "łukasz ødegard"
        assert WatchlistEntry.objects.filter(name_key="lukasz odegard").count() == 1


class SearchIgnoresApostrophesAndHyphensTests(TestCase):
    """Names with apostrophes (straight or the curly one of phone keyboards) and hyphens are found without them."""

    NAMES = ("Jane D'Arcy", "Siobhán O\u2019Brien", "Hirokazu Kore-eda", "Ngũgĩ wa Thiong'o")

    @classmethod
    def setUpTestData(cls):
        cls.letter = make_letter()
        for name in cls.NAMES:
            make_signature(cls.letter, Signature.State.APPROVED, full_name=name)
        cls.list_url = reverse("signatures:signatories", kwargs={"slug": cls.letter.slug})

    def test_typed_without_the_punctuation_each_name_is_found(self):
        expected = {
            "darcy": "Jane D'Arcy",
            "obrien": "Siobhán O\u2019Brien",
            "kore eda": "Hirokazu Kore-eda",
            "thiongo": "Ngũgĩ wa Thiong'o",
        }
        for query, name in expected.items():
            assert _names(self.client.get(self.list_url, {"q": query})) == [name], query

    def test_typed_with_either_apostrophe_or_the_hyphen_each_name_is_found(self):
        expected = {
            "d\u2019arcy": "Jane D'Arcy",
            "o'brien": "Siobhán O\u2019Brien",
            "O\u2019Brien": "Siobhán O\u2019Brien",
            "kore-eda": "Hirokazu Kore-eda",
        }
        for query, name in expected.items():
            assert _names(self.client.get(self.list_url, {"q": query})) == [name], query


class NameKeyPunctuationMigrationTests(TestCase):
    """0023 recomputes keys stored while apostrophes and hyphens were kept, and undoes it."""

    def setUp(self):
        self.migration = import_module("signatures.migrations.0023_name_key_folds_apostrophes_and_hyphens")
        letter = make_letter()
        self.old = make_signature(letter, Signature.State.APPROVED, full_name="Siobhán O\u2019Brien")
        self.erased = make_signature(letter, Signature.State.APPROVED, full_name="Jane D'Arcy")
        Signature.objects.filter(pk=self.old.pk).update(name_key="siobhan o\u2019brien")
        Signature.objects.filter(pk=self.erased.pk).update(name_key="")
        self.watched = WatchlistEntry.objects.create(name="Hirokazu Kore-eda")
        WatchlistEntry.objects.filter(pk=self.watched.pk).update(name_key="hirokazu kore-eda")

    def key(self, model, pk) -> str:
        return model.objects.get(pk=pk).name_key

    def test_forward_folds_old_keys_and_backward_restores_them(self):
        self.migration.fold_apostrophes_and_hyphens(apps, None)
        assert self.key(Signature, self.old.pk) == "siobhan obrien"
        assert self.key(WatchlistEntry, self.watched.pk) == "hirokazu kore eda"
        assert self.key(Signature, self.erased.pk) == ""
        assert _names(
            self.client.get(reverse("signatures:signatories", args=[self.old.letter.slug]), {"q": "obrien"})
        ) == ["Siobhán O\u2019Brien"]

        self.migration.unfold_apostrophes_and_hyphens(apps, None)
        assert self.key(Signature, self.old.pk) == "siobhan o\u2019brien"
        assert self.key(WatchlistEntry, self.watched.pk) == "hirokazu kore-eda"
        assert self.key(Signature, self.erased.pk) == ""


class TranslatedListTitleTests(TestCase):
    """A visitor whose language the organizers translated the letter into reads its title in that language."""

    @classmethod
    def setUpTestData(cls):
        cls.letter = make_letter(title="Keep copyright for creators")
        LetterTranslation.objects.create(
            letter=cls.letter, language="es", title="Mantened los derechos de autor", summary="Resumen.", body="Texto."
        )
        cls.list_url = reverse("signatures:signatories", kwargs={"slug": cls.letter.slug})

    def test_the_list_shows_the_translated_title(self):
        for accept in ("es", "es-MX,es;q=0.9"):
            page = self.client.get(self.list_url, headers={"accept-language": accept})
            self.assertContains(page, "Mantened los derechos de autor")
            self.assertNotContains(page, "Keep copyright for creators")

    def test_a_language_without_a_translation_shows_the_original_title(self):
        page = self.client.get(self.list_url, headers={"accept-language": "fr"})
        self.assertContains(page, "Keep copyright for creators")
        self.assertNotContains(page, "Mantened los derechos de autor")

    def test_the_translated_title_costs_no_extra_query(self):

        # The limit counters kept in a local cache, as tests/test_query_counts.py counts.
        with override_settings(CACHES=LOCAL_CACHE), self.assertNumQueries(PublicPagesQueryCountTests.LIST_QUERIES):
            self.client.get(self.list_url, headers={"accept-language": "es"})

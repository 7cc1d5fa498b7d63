"""
Rough edges found in review (issue 17, part 6), each pinned by what a reader,
a signer or an organizer sees. Search folding is in test_public_list.py; the
phone-width check is in tests/browser/test_rough_edges_browser.py.
"""

from __future__ import annotations

from datetime import UTC, datetime

from django.contrib.messages import get_messages
from django.core.cache import cache
from django.test import TestCase, override_settings
from django.urls import reverse

from signatures import services
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

    def test_a_profession_filter_says_how_many_it_shows(self):
        actor = Profession.objects.create(letter=self.letter, name="Actor", position=0)
        for n in range(2):
            make_signature(self.letter, Signature.State.APPROVED, profession=actor, full_name=f"Actor {n}")
        url = reverse("signatures:signatories", kwargs={"slug": self.letter.slug})
        self.assertContains(self.client.get(url, {"profession": actor.pk}), "Profession: Actor, 2 named signatories.")


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


class ReadableVersionDiffTests(TestCase):
    def test_the_diff_shows_added_and_removed_paragraphs_as_the_letter_shows_them(self):
        letter = make_letter(body="We ask you to **act**.\n\nUphold copyright.")
        services.ensure_letter_version(letter=letter)
        letter.body = "We ask you to **act now**.\n\nUphold copyright."
        letter.save()
        services.publish_letter_version(letter=letter, is_major=False, note="Sharper")
        page = self.client.get(reverse("signatures:letter_version", kwargs={"slug": letter.slug, "number": 2}))
        self.assertContains(page, "<del><p>We ask you to <strong>act</strong>.</p></del>", html=True)
        self.assertContains(page, "<ins><p>We ask you to <strong>act now</strong>.</p></ins>", html=True)
        self.assertContains(page, '<p class="diff-label">Removed</p>', html=True)
        self.assertContains(page, '<p class="diff-label">Added</p>', html=True)
        diff = page.content.decode().split('class="diff diff-readable"')[1].split("</section>")[0]
        assert "**" not in diff
        assert "\n+" not in diff
        self.assertContains(page, '<span class="badge">current</span>', html=True)


class WithdrawalLooksDifferentFromSigningTests(TestCase):
    def test_the_request_form_is_styled_and_its_button_is_not_the_signing_one(self):
        letter = make_letter()
        page = self.client.get(reverse("signatures:withdraw_request", kwargs={"slug": letter.slug}))
        self.assertContains(page, '<form method="post" class="step-form" novalidate>')
        self.assertContains(page, 'class="button button-primary button-secondary"')

    def test_the_withdraw_button_uses_the_danger_style(self):
        letter = make_letter()
        signature = make_signature(letter, Signature.State.APPROVED)
        path = reverse("signatures:withdraw", kwargs={"token": make_token(signature, Purpose.WITHDRAW)})
        self.assertContains(self.client.get(path), 'class="button button-primary button-danger"')


class BadgeAndDatesInTheReadersLanguageTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.letter = make_letter(goal=10000)
        make_signature(cls.letter, Signature.State.APPROVED)

    def badge(self, language: str):
        return self.client.get(
            reverse("signatures:badge", kwargs={"slug": self.letter.slug}), headers={"accept-language": language}
        )

    def test_the_badge_groups_the_goals_digits_as_the_readers_language_does(self):
        self.assertContains(self.badge("en"), "0% of a goal of 10,000")
        self.assertNotContains(self.badge("en"), "10000")
        self.assertContains(self.badge("fr"), "10\xa0000")

    def test_the_badge_follows_the_readers_colour_scheme(self):
        self.assertContains(self.badge("en"), "color-scheme: light dark")
        self.assertContains(self.badge("en"), "light-dark(")
        svg = self.client.get(reverse("signatures:badge_svg", kwargs={"slug": self.letter.slug}))
        self.assertContains(svg, "prefers-color-scheme: dark")

    def test_dates_read_in_the_readers_language(self):
        self.letter.opens_at = datetime(2026, 12, 1, 9, tzinfo=UTC)
        self.letter.save()
        pages = {
            "en": "Dec. 1, 2026",
            "fr": "1 décembre 2026",
            "es": "1 de diciembre de 2026",
        }
        for language, date in pages.items():
            page = self.client.get(self.letter.get_absolute_url(), headers={"accept-language": language})
            self.assertContains(page, f'<time datetime="2026-12-01">{date}</time>', html=True)


class PrivacyNoticeNamesTheControllerTests(TestCase):
    @override_settings(
        SIGNATURES_DATA_CONTROLLER="The Campaign for Creative Work, 1 Example Street",
        SIGNATURES_PRIVACY_CONTACT="privacy@campaign.example",
    )
    def test_the_notice_names_the_controller_and_how_to_reach_them(self):
        page = self.client.get(reverse("signatures:privacy"))
        self.assertContains(page, "The data controller is The Campaign for Creative Work, 1 Example Street.")
        self.assertContains(page, '<a href="mailto:privacy@campaign.example">privacy@campaign.example</a>', html=True)

    @override_settings(SIGNATURES_DATA_CONTROLLER="", SIGNATURES_PRIVACY_CONTACT="https://campaign.example/contact")
    def test_a_contact_page_is_a_link_and_an_unnamed_controller_is_the_organizers(self):
        page = self.client.get(reverse("signatures:privacy"))
        self.assertContains(page, "The organizers who run this site are responsible for your data.")
        self.assertContains(page, '<a href="https://campaign.example/contact">', html=False)

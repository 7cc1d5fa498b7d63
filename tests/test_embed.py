"""The sign widget partner sites frame: only the origins a letter lists may frame it; other pages stay unframeable."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.test import TestCase, override_settings
from django.urls import reverse

from signatures.models import Signature
from tests.factories import make_letter, make_signature, make_staff
from tests.letter_admin import change_form_data


def frame_ancestors(response) -> str:
    [directive] = [
        part.strip() for part in response["Content-Security-Policy"].split(";") if "frame-ancestors" in part
    ]
    return directive


class EmbedPageTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.letter = make_letter(
            title="Our work is not your training data",
            addressee="The Minister for Culture",
            goal=100,
            embed_origins="https://partner.example.org\nhttps://news.example.com:8443\n",
        )
        for _ in range(3):
            make_signature(cls.letter, Signature.State.APPROVED)

    def embed_path(self, letter=None) -> str:
        return reverse("signatures:embed", kwargs={"slug": (letter or self.letter).slug})

    def test_it_shows_title_addressee_count_and_a_button_that_opens_the_letter_in_a_new_tab(self):
        response = self.client.get(self.embed_path())
        assert response.status_code == 200
        self.assertContains(response, "Our work is not your training data")
        self.assertContains(response, "To The Minister for Culture")
        self.assertContains(response, "<strong>3</strong> signatures", html=True)
        self.assertContains(response, "<span data-goal-percent>3%</span> of a goal of 100")
        self.assertContains(
            response,
            f'href="http://127.0.0.1:8000{self.letter.get_absolute_url()}#sign" target="_blank" rel="noopener"',
        )

    def test_it_holds_no_form_and_sets_no_cookie_so_nothing_depends_on_third_party_cookies(self):
        response = self.client.get(self.embed_path())
        self.assertNotContains(response, "<form")
        assert not response.cookies
        assert "public" in response["Cache-Control"]

    def test_only_the_listed_origins_may_frame_it(self):
        response = self.client.get(self.embed_path())
        assert frame_ancestors(response) == "frame-ancestors https://partner.example.org https://news.example.com:8443"
        assert not response.has_header("X-Frame-Options")

    def test_a_letter_that_lists_no_origin_cannot_be_framed_at_all(self):
        letter = make_letter(slug="nobody-frames-me")
        response = self.client.get(self.embed_path(letter))
        assert frame_ancestors(response) == "frame-ancestors 'none'"

    def test_every_other_page_keeps_its_frame_ancestors_none_and_x_frame_options(self):
        for path in (self.letter.get_absolute_url(), reverse("signatures:flyer", kwargs={"slug": self.letter.slug})):
            response = self.client.get(path)
            assert frame_ancestors(response) == "frame-ancestors 'none'", path
            assert response["X-Frame-Options"] == "DENY", path

    def test_a_draft_has_no_embed(self):
        draft = make_letter(slug="a-draft", status="draft")
        assert self.client.get(self.embed_path(draft)).status_code == 404


class EmbedOriginValidationTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.letter = make_letter(slug="validated")

    def check(self, value: str) -> None:
        self.letter.embed_origins = value
        self.letter.full_clean()

    def test_https_origins_with_and_without_a_port_are_accepted(self):
        self.check("https://partner.example.org\n\n  https://news.example.com:8443  ")

    @override_settings(SIGNATURES_EMBED_ALLOW_LOOPBACK_HTTP=False)
    def test_paths_other_schemes_wildcards_and_plain_http_are_refused_with_the_line_named(self):
        for bad in (
            "https://partner.example.org/page",
            "partner.example.org",
            "https://*.example.org",
            "http://partner.example.org",
            "javascript:alert(1)",
            "https://partner.example.org?x=1",
            "https://user@partner.example.org",
            "'self'",
            "http://127.0.0.1:8000",
        ):
            with pytest.raises(ValidationError) as caught:
                self.check(f"https://fine.example.org\n{bad}")
            assert bad in str(caught.value), bad

    @override_settings(SIGNATURES_EMBED_ALLOW_LOOPBACK_HTTP=True)
    def test_a_loopback_http_origin_is_accepted_only_when_the_setting_permits_it(self):
        self.check("http://127.0.0.2:8123")
        with pytest.raises(ValidationError):
            self.check("http://partner.example.org")


class EmbedOriginsInTheAdminTests(TestCase):
    def setUp(self):
        self.client.force_login(make_staff())
        self.letter = make_letter(slug="partnered")

    def save(self, origins: str):
        data = change_form_data(self.client, self.letter.pk)
        data["embed_origins"] = origins
        return self.client.post(reverse("admin:signatures_letter_change", args=[self.letter.pk]), data)

    @override_settings(SIGNATURES_EMBED_ALLOW_LOOPBACK_HTTP=False)
    def test_an_organizer_lists_partner_origins_and_is_told_which_line_is_wrong(self):
        response = self.save("https://partner.example.org\nhttps://news.example.com/article")
        self.assertContains(response, "“https://news.example.com/article” is not an origin")
        assert self.save("https://partner.example.org\nhttps://news.example.com").status_code == 302
        self.letter.refresh_from_db()
        assert self.letter.embed_origin_list == ["https://partner.example.org", "https://news.example.com"]

    def test_the_change_page_gives_the_iframe_code_to_paste(self):
        page = self.client.get(reverse("admin:signatures_letter_change", args=[self.letter.pk]))
        self.assertContains(page, "&lt;iframe src=&quot;http://127.0.0.1:8000/letters/partnered/embed/&quot;")

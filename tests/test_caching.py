"""HTTP caching: public pages may be kept by browsers and CDNs; nobody's token or errors are ever shared."""

from __future__ import annotations

import re

import time_machine
from django.core import signing
from django.core.cache import cache
from django.db import connection
from django.test import Client, TestCase, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from signatures.models import Signature
from tests.factories import drawn_form_fields, make_letter, make_signature, make_staff, sign_data

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def _cache_control(response) -> set[str]:
    return {part.strip() for part in response.get("Cache-Control", "").split(",") if part.strip()}


class PublicPagesAreCacheableTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.letter = make_letter()
        make_signature(cls.letter, Signature.State.APPROVED, full_name="Listed Person")

    def _url(self, name: str) -> str:
        return reverse(f"signatures:{name}", kwargs={"slug": self.letter.slug})

    def test_the_public_list_is_public_for_a_minute_and_holds_no_token(self):
        response = self.client.get(self._url("signatories"), {"q": "listed"})
        assert {"public", "max-age=60"} <= _cache_control(response)
        assert "csrfmiddlewaretoken" not in response.content.decode()
        assert "csrftoken" not in response.cookies
        assert "Accept-Language" in response["Vary"]
        # Nothing read the (absent) session, so a CDN need not key on cookies.
        assert "Cookie" not in response["Vary"]

    def test_exports_count_and_badges_are_public(self):
        for name, max_age in (
            ("export_csv", 300),
            ("export_json", 300),
            ("count_json", 10),
            ("badge", 60),
            ("badge_svg", 60),
        ):
            response = self.client.get(self._url(name))
            assert {"public", f"max-age={max_age}"} <= _cache_control(response), name
            assert not response.cookies, name

    def test_an_unchanged_list_answers_not_modified(self):
        url = self._url("signatories")
        first = self.client.get(url)
        assert first.has_header("ETag")
        again = self.client.get(url, headers={"if-none-match": first["ETag"]})
        assert again.status_code == 304


class LetterPageIsPrivateTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.letter = make_letter()

    def test_the_letter_page_with_its_form_is_private_and_varies_by_cookie(self):
        response = self.client.get(self.letter.get_absolute_url())
        assert TOKEN.search(response.content.decode())
        cache_control = _cache_control(response)
        assert "private" in cache_control
        assert "public" not in cache_control
        assert "max-age=0" in cache_control
        assert "Cookie" in response["Vary"]

    def test_two_visitors_never_get_the_same_csrf_secret(self):
        first, second = Client(), Client()
        first.get(self.letter.get_absolute_url())
        second.get(self.letter.get_absolute_url())
        assert first.cookies["csrftoken"].value != second.cookies["csrftoken"].value

    def test_a_visitor_cannot_post_with_someone_elses_token(self):
        owner, stranger = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
        page = owner.get(self.letter.get_absolute_url()).content.decode()
        token = TOKEN.search(page).group(1)
        stranger.get(self.letter.get_absolute_url())
        url = reverse("signatures:sign", kwargs={"slug": self.letter.slug})
        response = stranger.post(url, {**sign_data(self.letter), "csrfmiddlewaretoken": token})
        assert response.status_code == 403
        assert not Signature.objects.filter(letter=self.letter).exists()

    def test_form_errors_are_shown_only_to_the_person_who_made_them(self):
        url = reverse("signatures:sign", kwargs={"slug": self.letter.slug})
        failed = self.client.post(url, sign_data(self.letter, email="not-an-email", full_name="Errol Private"))
        assert failed.status_code == 400
        assert "private" in _cache_control(failed)
        self.assertContains(failed, "Errol Private", status_code=400)
        fresh = Client().get(self.letter.get_absolute_url())
        assert "Errol Private" not in fresh.content.decode()
        assert "error-summary" not in fresh.content.decode()


LOCAL_CACHE = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "page-cache-tests"},
    "fallback": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "page-cache-fallback"},
}
STAMP = re.compile(r'name="form_stamp" value="([^"]+)"')


@override_settings(SIGNATURES_PAGE_CACHE_SECONDS=30, CACHES=LOCAL_CACHE)
class SharedPageCacheTests(TestCase):
    """In production the letter page and list pages are kept a few seconds in the shared cache."""

    @classmethod
    def setUpTestData(cls):
        cls.letter = make_letter()
        make_signature(cls.letter, Signature.State.APPROVED, full_name="Listed Person")

    def setUp(self):
        cache.clear()

    def test_the_kept_letter_page_gives_each_visitor_their_own_working_token(self):
        first, second = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
        first_page = first.get(self.letter.get_absolute_url()).content.decode()
        with self.assertNumQueries(0):
            second_page = second.get(self.letter.get_absolute_url()).content.decode()
        first_token, second_token = TOKEN.search(first_page).group(1), TOKEN.search(second_page).group(1)
        assert first_token != second_token
        assert first.cookies["csrftoken"].value != second.cookies["csrftoken"].value
        assert "\x00" not in second_page
        # Each token works for its visitor only.
        url = reverse("signatures:sign", kwargs={"slug": self.letter.slug})
        data = sign_data(self.letter, email="second@example.org")
        assert first.post(url, {**data, "csrfmiddlewaretoken": second_token}).status_code == 403
        response = second.post(url, {**data, "csrfmiddlewaretoken": second_token})
        assert response.status_code in (200, 302)

    def test_the_kept_letter_page_gets_a_fresh_form_stamp_each_visit(self):
        with time_machine.travel("2026-06-01 12:00:00Z", tick=False):
            first = Client().get(self.letter.get_absolute_url()).content.decode()
        with time_machine.travel("2026-06-01 12:00:20Z", tick=False):
            second = Client().get(self.letter.get_absolute_url()).content.decode()
        issued = [
            int(signing.Signer(salt="signatures.bots.form-stamp").unsign(STAMP.search(page).group(1)).split(":")[1])
            for page in (first, second)
        ]
        assert issued[1] - issued[0] == 20

    def test_each_visitor_of_the_kept_page_gets_a_stamp_of_their_own_good_for_one_submission(self):
        url = reverse("signatures:sign", kwargs={"slug": self.letter.slug})
        with time_machine.travel("2026-06-01 12:00:00Z", tick=False) as traveller:
            visitors = [Client(), Client()]
            drawn = [
                drawn_form_fields(visitor.get(self.letter.get_absolute_url()).content.decode()) for visitor in visitors
            ]
            assert drawn[0]["form_stamp"] != drawn[1]["form_stamp"]
            traveller.shift(60)
            for n, (visitor, fields) in enumerate(zip(visitors, drawn, strict=True)):
                data = sign_data(self.letter, email=f"visitor{n}@example.org", **fields)
                assert visitor.post(url, data).status_code == 302
                assert visitor.post(url, {**data, "email": f"replay{n}@example.org"}).status_code == 302
        emails = set(Signature.objects.filter(letter=self.letter).values_list("email_normalized", flat=True))
        assert {"visitor0@example.org", "visitor1@example.org"} <= emails
        assert not emails & {"replay0@example.org", "replay1@example.org"}

    def test_a_visitor_with_a_session_is_never_served_a_kept_page(self):
        self.client.get(self.letter.get_absolute_url())
        self.client.force_login(make_staff())
        with CaptureQueriesContext(connection) as queries:
            self.client.get(self.letter.get_absolute_url())
        assert len(queries) > 0

    def test_form_errors_are_never_kept(self):
        url = reverse("signatures:sign", kwargs={"slug": self.letter.slug})
        self.client.post(url, sign_data(self.letter, email="nope", full_name="Errol Private"))
        page = Client().get(self.letter.get_absolute_url()).content.decode()
        assert "Errol Private" not in page
        assert "error-summary" not in page

    def test_the_public_list_is_kept_and_served_without_queries(self):
        url = reverse("signatures:signatories", kwargs={"slug": self.letter.slug})
        first = self.client.get(url, {"q": "listed"})
        with self.assertNumQueries(0):
            again = Client().get(url, {"q": "listed"})
        assert again.content == first.content
        assert "public" in again["Cache-Control"]
        # Another filter is another page.
        assert "Listed Person" not in Client().get(url, {"q": "nobody"}).content.decode()

    def test_the_badge_is_kept_and_can_still_be_framed(self):
        url = reverse("signatures:badge", kwargs={"slug": self.letter.slug})
        self.client.get(url)
        with self.assertNumQueries(0):
            again = Client().get(url)
        assert "X-Frame-Options" not in again
        assert "frame-ancestors *" in again["Content-Security-Policy"]
        count_url = reverse("signatures:count_json", kwargs={"slug": self.letter.slug})
        first = Client().get(count_url).json()
        with self.assertNumQueries(0):
            assert Client().get(count_url).json() == first

    def test_a_kept_letter_page_carries_no_earlier_visitors_token_or_stamp(self):
        url = self.letter.get_absolute_url()
        first = Client().get(url).content.decode()
        second = Client().get(url).content.decode()
        assert TOKEN.search(first).group(1) not in second
        assert "\x00" not in first
        assert "\x00" not in second

    @override_settings(SIGNATURES_LIMIT_LIST_PAGES_PER_IP="1/60")
    def test_a_kept_list_page_is_served_before_the_per_ip_limit_counts(self):
        url = reverse("signatures:signatories", kwargs={"slug": self.letter.slug})
        assert self.client.get(url).status_code == 200
        # The same page again costs nothing to serve: no limit.
        assert self.client.get(url).status_code == 200
        # A page that must be drawn counts, and this address is past its limit.
        assert self.client.get(url, {"q": "other"}).status_code == 429

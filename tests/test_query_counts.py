"""
Every public page answers in a fixed, small number of queries, whatever the
number of signatures: measured on a small letter, then asserted again with
assertNumQueries after the letter grows and on a deep page.

The cache is in memory here so that only the page's own queries are counted
(with the database cache, the per-IP limits add their own, also fixed).
"""

from __future__ import annotations

from django.db import connection
from django.test import TestCase, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from signatures import services
from signatures.models import Signature
from tests.factories import make_letter, make_signature

LOCAL_CACHE = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "query-counts"},
    "fallback": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "query-counts-fallback"},
}


def _consume(response) -> None:
    if response.streaming:
        b"".join(response.streaming_content)


@override_settings(CACHES=LOCAL_CACHE, SIGNATURES_PAGE_SIZE=5)
class PublicPagesQueryCountTests(TestCase):
    # The public list's budget: letter, professions, counters, one page of rows.
    # The visitor's list-page limit (its window row), the letter, professions, the letter's
    # custom questions (public answers show on entries), counters, one page of rows.
    LIST_QUERIES = 6

    @classmethod
    def setUpTestData(cls):
        cls.letter = make_letter(goal=100)
        cls.director = cls.letter.professions.first()
        for n in range(3):
            make_signature(cls.letter, Signature.State.APPROVED, full_name=f"López {n}", profession=cls.director)

    def _url(self, name: str, **params) -> str:
        url = reverse(f"signatures:{name}", kwargs={"slug": self.letter.slug})
        return url + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")

    def _pages(self) -> dict[str, str]:
        return {
            "letter": self.letter.get_absolute_url(),
            "list": self._url("signatories"),
            "search": self._url("signatories", q="lopez"),
            "profession": self._url("signatories", profession=self.director.pk),
            "count": self._url("count_json"),
            "badge": self._url("badge"),
            "badge_svg": self._url("badge_svg"),
            "csv": self._url("export_csv"),
            "json": self._url("export_json"),
            "check_email": self._url("check_email"),
        }

    def _count(self, url: str) -> int:
        with CaptureQueriesContext(connection) as queries:
            response = self.client.get(url)
            _consume(response)
        assert response.status_code == 200, (url, response.status_code)
        return len(queries)

    def _grow(self, n: int) -> None:
        composer = self.letter.professions.last()
        for i in range(n):
            make_signature(
                self.letter,
                Signature.State.APPROVED,
                full_name=f"Lopez Grown {i}",
                profession=composer if i % 2 else self.director,
                wants_listing=i % 5 != 0,
            )
        make_signature(self.letter, Signature.State.CONFIRMED)
        notable = make_signature(self.letter, Signature.State.APPROVED, full_name="Famous López")
        services.mark_notable(signature_ids=[notable.pk], moderator=None)

    def test_the_number_of_queries_does_not_grow_with_the_letter(self):
        small = {name: self._count(url) for name, url in self._pages().items()}
        self._grow(40)
        for name, url in self._pages().items():
            with self.assertNumQueries(small[name]):
                _consume(self.client.get(url))

    def test_a_deep_page_costs_what_the_first_page_costs(self):
        self._grow(40)
        first = self._count(self._url("signatories"))
        response = self.client.get(self._url("signatories"))
        for _ in range(6):
            response = self.client.get(self._url("signatories") + response.context["next_url"])
        deep = self._url("signatories") + response.context["next_url"]
        with self.assertNumQueries(first):
            self.client.get(deep)

    def test_the_public_list_takes_six_queries(self):
        for url in (self._url("signatories"), self._url("signatories", q="lopez", profession=self.director.pk)):
            with self.assertNumQueries(self.LIST_QUERIES):
                self.client.get(url)

    def test_the_count_endpoint_and_badges_take_two_queries(self):
        for name in ("count_json", "badge", "badge_svg"):
            with self.assertNumQueries(2):
                self.client.get(self._url(name))

    def test_exports_take_five_queries_however_many_rows(self):
        # The visitor's export limit, the letter, its custom questions (public ones are exported), then the rows
        # through one cursor (JSON also reads the count).
        with self.assertNumQueries(4):
            _consume(self.client.get(self._url("export_csv")))
        with self.assertNumQueries(5):
            _consume(self.client.get(self._url("export_json")))

    def test_every_page_stays_within_a_small_budget(self):
        for name, url in self._pages().items():
            assert self._count(url) <= 10, name

"""
Each web process keeps the pages it read from the shared cache for a second
(SIGNATURES_PAGE_CACHE_LOCAL_SECONDS), never past the shared entry's own
expiry, and still gives every visitor their own CSRF token (drawn by
`page_cache.csrf_token`, which does what Django's `get_token` does).
"""

from __future__ import annotations

import re

import time_machine
from django.core.cache import cache
from django.db import connection
from django.test import Client, TestCase, override_settings
from django.test.utils import CaptureQueriesContext

from signatures.caching import pages as page_cache
from signatures.models import Signature
from tests.factories import make_letter, make_signature

LOCAL_CACHE = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "page-cache-local-tests"},
    "fallback": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "page-cache-local-fallback"},
}
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def queries_to_draw(url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        Client().get(url)
    return len(queries)


@override_settings(SIGNATURES_PAGE_CACHE_SECONDS=5, SIGNATURES_PAGE_CACHE_LOCAL_SECONDS=1, CACHES=LOCAL_CACHE)
class ProcessLocalPageCacheTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.letter = make_letter()
        make_signature(cls.letter, Signature.State.APPROVED, full_name="Listed Person")

    def setUp(self):
        cache.clear()
        page_cache.forget_pages_kept_in_process()
        self.addCleanup(page_cache.forget_pages_kept_in_process)
        traveller = time_machine.travel("2026-06-01 12:00:00Z", tick=False)
        self.clock = traveller.start()
        self.addCleanup(traveller.stop)

    def test_a_page_read_once_is_served_from_the_process_for_a_second(self):
        url = self.letter.get_absolute_url()
        Client().get(url)  # drawn and kept in the shared cache
        Client().get(url)  # read from the shared cache, kept in the process
        cache.clear()

        assert queries_to_draw(url) == 0
        self.clock.shift(1.5)
        assert queries_to_draw(url) > 0

    def test_the_process_never_keeps_a_page_longer_than_the_shared_cache_would(self):
        url = self.letter.get_absolute_url()
        with override_settings(SIGNATURES_PAGE_CACHE_LOCAL_SECONDS=60):
            Client().get(url)
            self.clock.shift(4)
            Client().get(url)  # kept in the process until the shared entry ends, one second from now
            cache.clear()
            assert queries_to_draw(url) == 0
            self.clock.shift(1.5)
            assert queries_to_draw(url) > 0

    def test_each_visitor_of_a_page_kept_in_the_process_gets_their_own_token(self):
        url = self.letter.get_absolute_url()
        Client().get(url)
        Client().get(url)
        pages = [Client().get(url).content.decode() for _ in range(2)]
        tokens = {TOKEN.search(page).group(1) for page in pages}
        assert len(tokens) == 2
        assert all("\x00" not in page for page in pages)

    def test_the_public_list_is_kept_in_the_process_too(self):
        url = f"{self.letter.get_absolute_url()}signatories/"
        first = Client().get(url)
        Client().get(url)
        cache.clear()
        with self.assertNumQueries(0):
            again = Client().get(url)
        assert again.content == first.content

    def test_a_kept_list_page_has_the_etag_of_the_page_drawn_and_answers_304_to_it(self):
        url = f"{self.letter.get_absolute_url()}signatories/"
        drawn = Client().get(url)
        kept = Client().get(url)
        assert kept.content == drawn.content
        assert kept["ETag"] == drawn["ETag"]
        assert Client().get(url, headers={"if-none-match": kept["ETag"]}).status_code == 304

    def test_each_visitor_of_a_kept_letter_page_gets_their_own_etag(self):
        url = self.letter.get_absolute_url()
        Client().get(url)
        first, second = Client().get(url), Client().get(url)
        assert first["ETag"] != second["ETag"]
        assert Client().get(url, headers={"if-none-match": first["ETag"]}).status_code == 200

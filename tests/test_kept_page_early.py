"""
A kept public page is answered before the middleware that only serves people
with a session, and before the URL dispatch and the view (KeptPageMiddleware):
the answer must be the one the whole stack gives — the same headers, the
visitor's own token, the visitor's language — and never reach someone it is not for.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.core.cache import cache
from django.test import Client, TestCase, override_settings
from django.urls import reverse

from signatures import services
from signatures.caching import pages as page_cache
from signatures.models import Signature
from signatures.tokens import Purpose, make_token
from tests.factories import make_letter, make_signature, make_staff

LOCAL_CACHE = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "kept-page-early-tests"},
    "fallback": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "kept-page-early-fallback"},
}
WITHOUT_EARLY_ANSWER = [name for name in settings.MIDDLEWARE if name != "signatures.caching.pages.KeptPageMiddleware"]
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
# Drawn afresh for every answer, by design.
PER_ANSWER_HEADERS = {"x-request-id", "etag", "set-cookie"}


def headers_of(response) -> dict[str, str]:
    return {name.lower(): value for name, value in response.items() if name.lower() not in PER_ANSWER_HEADERS}


def answered_early(response) -> bool:
    # AuthenticationMiddleware, below the early answer, gives every request it sees a user.
    return not hasattr(response.wsgi_request, "user")


@override_settings(SIGNATURES_PAGE_CACHE_SECONDS=30, SIGNATURES_PAGE_CACHE_LOCAL_SECONDS=1, CACHES=LOCAL_CACHE)
class KeptPageAnsweredEarlyTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.letter = make_letter()
        cls.signature = make_signature(cls.letter, Signature.State.APPROVED, full_name="Listed Person")

    def setUp(self):
        cache.clear()
        page_cache.forget_pages_kept_in_process()
        self.addCleanup(page_cache.forget_pages_kept_in_process)

    def urls(self) -> dict[str, str]:
        slug = self.letter.slug
        return {
            "letter page": self.letter.get_absolute_url(),
            "list page": reverse("signatures:signatories", kwargs={"slug": slug}),
            "count": reverse("signatures:count_json", kwargs={"slug": slug}),
            "embed": reverse("signatures:embed", kwargs={"slug": slug}),
            "badge": reverse("signatures:badge", kwargs={"slug": slug}),
        }

    def test_every_kind_of_kept_page_is_answered_early_with_the_headers_the_whole_stack_sends(self):
        for name, url in self.urls().items():
            with self.subTest(name):
                drawn = Client().get(url)
                assert drawn.status_code == 200
                assert not answered_early(drawn)
                early = Client().get(url)
                with override_settings(MIDDLEWARE=WITHOUT_EARLY_ANSWER):
                    through_the_stack = Client().get(url)
                assert answered_early(early)
                assert not answered_early(through_the_stack)
                assert headers_of(early) == headers_of(through_the_stack) == headers_of(drawn)
                assert early.content.count(b"\x00") == 0
                if name != "letter page":
                    assert early.content == through_the_stack.content == drawn.content
                    assert early["ETag"] == through_the_stack["ETag"]
                    assert "Set-Cookie" not in early

    def test_the_security_headers_are_on_an_early_answer(self):
        Client().get(self.letter.get_absolute_url())
        early = Client().get(self.letter.get_absolute_url())
        assert answered_early(early)
        expected = (
            "Content-Security-Policy",
            "X-Frame-Options",
            "X-Content-Type-Options",
            "Referrer-Policy",
            "Cross-Origin-Opener-Policy",
            "Cross-Origin-Resource-Policy",
            "X-Request-ID",
        )
        assert [header for header in expected if header not in early] == []

    def test_the_kept_letter_page_answered_early_gives_a_working_token_of_the_visitors_own(self):
        url = self.letter.get_absolute_url()
        Client().get(url)
        visitor = Client(enforce_csrf_checks=True)
        page = visitor.get(url)
        assert answered_early(page)
        token = TOKEN.search(page.content.decode()).group(1)
        assert visitor.cookies["csrftoken"].value
        assert page["Vary"] == headers_of(Client().get(url))["vary"]
        sign_url = reverse("signatures:sign", kwargs={"slug": self.letter.slug})
        assert visitor.post(sign_url, {"csrfmiddlewaretoken": token}).status_code != 403
        assert Client(enforce_csrf_checks=True).post(sign_url, {"csrfmiddlewaretoken": token}).status_code == 403

    def test_an_unchanged_kept_list_page_answers_304_early(self):
        url = f"/letters/{self.letter.slug}/signatories/"
        drawn = Client().get(url)
        again = Client().get(url, headers={"if-none-match": drawn["ETag"]})
        assert again.status_code == 304
        assert answered_early(again)

    def test_a_head_request_is_answered_early_without_a_body(self):
        url = f"/letters/{self.letter.slug}/signatories/"
        Client().get(url)
        head = Client().head(url)
        assert head.status_code == 200
        assert answered_early(head)
        assert head.content == b""

    def test_each_language_gets_its_own_kept_page(self):
        url = f"/letters/{self.letter.slug}/signatories/"
        english = Client().get(url, headers={"accept-language": "en"})
        french = Client().get(url, headers={"accept-language": "fr"})
        french_again = Client().get(url, headers={"accept-language": "fr"})
        assert answered_early(french_again)
        assert french_again["Content-Language"] == "fr"
        assert french_again.content == french.content != english.content

    def test_a_signed_in_organizer_is_never_answered_from_the_kept_page(self):
        url = self.letter.get_absolute_url()
        Client().get(url)
        organizer = Client()
        organizer.force_login(make_staff())
        page = organizer.get(url)
        assert page.status_code == 200
        assert not answered_early(page)

    def test_a_withdrawn_name_leaves_the_kept_list_at_once(self):
        url = f"/letters/{self.letter.slug}/signatories/"
        assert b"Listed Person" in Client().get(url).content
        assert b"Listed Person" in Client().get(url).content  # now kept in this process too
        with self.captureOnCommitCallbacks(execute=True):
            services.withdraw_signature(token=make_token(self.signature, Purpose.WITHDRAW))
        assert b"Listed Person" not in Client().get(url).content

    def test_a_host_we_do_not_serve_is_refused_even_for_a_kept_page(self):
        url = f"/letters/{self.letter.slug}/signatories/"
        Client().get(url)
        assert Client().get(url, headers={"host": "attacker.example"}).status_code == 400

    def test_a_page_nobody_kept_and_an_unknown_address_go_through_the_whole_stack(self):
        missing = Client().get(f"/letters/{self.letter.slug}-nope/signatories/")
        assert missing.status_code == 404
        assert not answered_early(missing)
        nowhere = Client().get("/no-such-page/")
        assert nowhere.status_code == 404
        assert not answered_early(nowhere)

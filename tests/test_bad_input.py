"""
Each input the live fuzzer (tests/test_fuzz_live.py) found answering 500 or
without security headers: a NUL in the list search, the admin or a cookie; a
form declaring a charset other than UTF-8; the request guard's and the
probes' answers.
"""

from __future__ import annotations

import io
from unittest import skipUnless

from django.core import signals
from django.db import close_old_connections, connection
from django.test import TestCase
from django.urls import reverse

from letter_site.wsgi import application
from tests.factories import make_letter, sign_data

SECURITY_HEADERS = ("Content-Security-Policy", "X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy")


def assert_security_headers(headers) -> None:
    for name in SECURITY_HEADERS:
        assert headers.get(name), f"missing {name}"
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]


class NulCharacterTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.letter = make_letter()
        cls.list_url = reverse("signatures:signatories", kwargs={"slug": cls.letter.slug})

    def test_a_nul_in_the_list_search_answers_a_clear_400_page(self):
        response = self.client.get(self.list_url + "?q=%00")
        assert response.status_code == 400
        assert "not allowed (NUL)" in response.content.decode()
        assert_security_headers(response)

    def test_a_nul_in_the_admin_search_answers_400(self):
        response = self.client.get(reverse("admin:signatures_signature_changelist") + "?q=a%00b")
        assert response.status_code == 400

    def test_a_nul_in_a_form_field_answers_400_and_stores_nothing(self):
        response = self.client.post(
            reverse("signatures:sign", kwargs={"slug": self.letter.slug}), sign_data(self.letter, full_name="A\x00B")
        )
        assert response.status_code == 400
        assert "The form contains a character that is not allowed" in response.content.decode()
        assert not self.letter.signatures.exists()

    def test_a_nul_in_the_admin_login_answers_400(self):
        response = self.client.post(reverse("admin:login"), {"username": "admin\x00", "password": "x"})
        assert response.status_code == 400

    def test_a_nul_in_a_cookie_answers_400(self):
        self.client.cookies["sessionid"] = "abc\x00def"
        response = self.client.get(self.letter.get_absolute_url())
        assert response.status_code == 400
        assert "Clear this site&#x27;s cookies" in response.content.decode()

    def test_ordinary_searches_still_work(self):
        response = self.client.get(self.list_url + "?q=Agn%C3%A8s")
        assert response.status_code == 200

    @skipUnless(connection.vendor == "postgresql", "PostgreSQL is the database that refuses NUL in text")
    def test_the_search_never_reaches_postgresql_with_a_nul(self):
        with self.assertNumQueries(0):
            response = self.client.get(self.list_url + "?q=x%00")
        assert response.status_code == 400


class ForeignCharsetTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.letter = make_letter()
        cls.sign_url = reverse("signatures:sign", kwargs={"slug": cls.letter.slug})

    def post_form(self, url: str, charset: str):
        # generic() sends the bytes as they are (post() would encode them with the charset).
        return self.client.generic(
            "POST", url, b"full_name=Agn%C3%A8s", content_type=f"application/x-www-form-urlencoded; charset={charset}"
        )

    def test_a_bogus_charset_answers_400_with_the_security_headers(self):
        response = self.post_form(self.sign_url, "bogus")
        assert response.status_code == 400
        assert "UTF-8 only" in response.content.decode()
        assert_security_headers(response)

    def test_a_foreign_charset_answers_400_on_the_admin_login_too(self):
        for charset in ("utf-16", "latin-1", "rot13", "hex"):
            assert self.post_form(reverse("admin:login"), charset).status_code == 400, charset

    def test_utf8_declared_in_any_spelling_is_fine(self):
        for charset in ("utf-8", "UTF-8", "utf8"):
            response = self.post_form(self.sign_url, charset)
            assert response.status_code == 400  # a form error: the form is incomplete
            assert "UTF-8 only" not in response.content.decode(), charset

    def test_a_codec_that_is_no_text_encoding_with_a_query_string_answers_400_not_gunicorns_500(self):
        # Django applies the charset while it builds the request; with a query
        # string, "hex" raised there, before any middleware (so gunicorn's bare 500).
        body = b"a=b"
        environ = {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": "/privacy/",
            "QUERY_STRING": "x=1",
            "CONTENT_TYPE": "application/x-www-form-urlencoded; charset=hex",
            "CONTENT_LENGTH": str(len(body)),
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "80",
            "HTTP_HOST": "127.0.0.1",
            "wsgi.input": io.BytesIO(body),
            "wsgi.url_scheme": "http",
            "wsgi.errors": io.StringIO(),
        }
        started = {}

        def start_response(status, headers, exc_info=None):
            started["status"] = status
            started["headers"] = dict(headers)

        # As Django's test client does: the request must not close the test's database connection.
        signals.request_started.disconnect(close_old_connections)
        signals.request_finished.disconnect(close_old_connections)
        try:
            content = b"".join(application(environ, start_response))
        finally:
            signals.request_started.connect(close_old_connections)
            signals.request_finished.connect(close_old_connections)
        assert started["status"].startswith("400")
        assert b"UTF-8 only" in content
        assert_security_headers(started["headers"])


class EarlyAnswerHeaderTests(TestCase):
    def test_the_request_guards_413_carries_the_security_headers(self):
        letter = make_letter()
        response = self.client.post(
            reverse("signatures:sign", kwargs={"slug": letter.slug}),
            "x",
            content_type="application/x-www-form-urlencoded",
            CONTENT_LENGTH="99999999999",
        )
        assert response.status_code == 413
        assert_security_headers(response)

    def test_the_request_guards_400_for_bad_encoding_carries_the_security_headers(self):
        response = self.client.get("/letters/%FF%FE/")
        assert response.status_code == 400
        assert_security_headers(response)

    def test_a_probe_carries_the_security_headers(self):
        response = self.client.get("/healthz")
        assert response.status_code == 200
        assert_security_headers(response)

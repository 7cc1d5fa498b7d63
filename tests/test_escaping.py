"""Hostile input is stored inert and shown escaped; letter Markdown cannot run script."""

from __future__ import annotations

from django.core import mail
from django.test import TestCase
from django.urls import reverse

from signatures.models import Signature
from signatures.tokens import Purpose, make_token
from tests.factories import form_guard, make_letter, make_signature, make_staff

HOSTILE_NAME = "<img src=x onerror=alert(1)>"


class LetterMarkdownTests(TestCase):
    def test_script_event_handlers_and_javascript_links_render_inert(self):
        body = (
            "Hello <script>alert('x')</script>\n\n"
            '<img src="x" onerror="alert(1)">\n\n'
            "[click me](javascript:alert(1))\n\n"
            '<a href="javascript:alert(2)">raw link</a>\n\n'
            "[fine](https://example.org/) and **bold**"
        )
        letter = make_letter(body=body)
        html = self.client.get(letter.get_absolute_url()).content.decode()
        assert "<script>alert" not in html
        assert "onerror" not in html
        assert "javascript:" not in html
        assert '<a href="https://example.org/" rel="noopener noreferrer nofollow">fine</a>' in html
        assert "<strong>bold</strong>" in html


class HostileNameTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.letter = make_letter()
        cls.signature = make_signature(
            cls.letter,
            Signature.State.APPROVED,
            full_name=HOSTILE_NAME,
            affiliation="<b>Bold Inc</b>",
            is_notable=True,
        )

    def assert_escaped(self, response):
        assert response.status_code in (200, 400)
        html = response.content.decode()
        assert HOSTILE_NAME not in html
        assert "&lt;img src=x onerror=alert(1)&gt;" in html

    def test_the_name_is_escaped_on_the_letter_page_and_list(self):
        self.assert_escaped(self.client.get(self.letter.get_absolute_url()))
        self.assert_escaped(self.client.get(reverse("signatures:signatories", kwargs={"slug": self.letter.slug})))
        assert "<b>Bold Inc</b>" not in self.client.get(self.letter.get_absolute_url()).content.decode()

    def test_the_name_is_escaped_on_the_confirmation_page(self):
        pending = make_signature(self.letter, Signature.State.SUBMITTED, full_name=HOSTILE_NAME)
        path = reverse("signatures:confirm", kwargs={"token": make_token(pending, Purpose.CONFIRM)})
        self.assert_escaped(self.client.get(path))

    def test_the_name_is_escaped_in_the_admin(self):
        self.client.force_login(make_staff())
        # The changelist opens on the moderation queue; this signature is approved.
        self.assert_escaped(self.client.get(reverse("admin:signatures_signature_changelist") + "?status=all"))
        self.assert_escaped(self.client.get(reverse("admin:signatures_signature_change", args=[self.signature.pk])))

    def test_the_name_is_escaped_in_the_html_email(self):
        url = reverse("signatures:sign", kwargs={"slug": self.letter.slug})
        data = {
            "full_name": HOSTILE_NAME,
            "email": "hostile@example.org",
            "profession": str(self.letter.professions.first().pk),
            **form_guard(self.letter),
        }
        with self.captureOnCommitCallbacks(execute=True):
            self.client.post(url, data)
        [message] = mail.outbox
        html, _ = message.alternatives[0]
        assert HOSTILE_NAME not in html
        assert "&lt;img src=x onerror=alert(1)&gt;" in html

    def test_sql_looking_input_is_stored_verbatim(self):
        url = reverse("signatures:sign", kwargs={"slug": self.letter.slug})
        name = "Robert'); DROP TABLE signatures_signature;--"
        data = {
            "full_name": name,
            "email": "bobby@example.org",
            "profession": str(self.letter.professions.first().pk),
            **form_guard(self.letter),
        }
        with self.captureOnCommitCallbacks(execute=True):
            self.client.post(url, data)
        assert Signature.objects.filter(full_name=name).exists()

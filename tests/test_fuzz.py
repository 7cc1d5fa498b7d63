"""
Bad input never breaks anything: arbitrary Unicode (RTL overrides,
zero-width characters), control characters, null bytes, 10,000-character
strings, lists in place of scalars, HTML/JS and SQL-looking strings thrown at
the sign, confirm and withdraw endpoints and at the token parser. Every answer
is a form error, a success or a 400 (never a 500); what is stored round-trips
and renders escaped. Runtime is bounded: few examples, no example database.
"""

from __future__ import annotations

import unicodedata
from urllib.parse import quote

from django.core import mail
from django.test import override_settings
from django.urls import reverse
from django.utils.html import escape
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from signatures import outbox, services
from signatures.csv_export import neutralise
from signatures.models import OutgoingEmail, Signature
from signatures.text import collapse_whitespace
from signatures.tokens import Purpose, check_token, make_token, parse_token
from tests.factories import form_guard, make_letter, make_signature

FUZZ = settings(
    max_examples=15,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

NASTY = [
    "\u202eadraV s\u00e8ngA",  # right-to-left override
    "Ag\u200bn\u200d\u00e8s",  # zero-width characters
    "nul\x00byte",
    "bell\x07 and esc\x1b[31m",
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "Robert'); DROP TABLE signatures_signature;--",
    "' OR '1'='1",
    '=HYPERLINK("http://evil.example")',
    "Eve\r\nBcc: victim@example.org",
    "x" * 10_000,
    "\ufeff\ufffe\uffff",
    "𝕬𝖌𝖓𝖊̀𝖘 👩🏽‍🎨",  # noqa: RUF001 (look-alike letters on purpose)
]

# Any Unicode a browser can send (lone surrogates cannot be encoded as UTF-8).
any_text = st.one_of(
    st.sampled_from(NASTY),
    st.text(st.characters(exclude_categories=("Cs",)), max_size=300),
)
field_value = st.one_of(any_text, st.lists(any_text, min_size=0, max_size=3))

SIGN_FIELDS = [
    "full_name",
    "email",
    "profession",
    "title",
    "affiliation",
    "city",
    "country",
    "comment",
    "wants_listing",
]


@override_settings(SIGNATURES_LIMIT_SIGN_IP_BURST="0", SIGNATURES_LIMIT_SIGN_IP_SUSTAINED="0")
class SignEndpointFuzzTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.letter = make_letter(requires_moderation=False)
        cls.url = reverse("signatures:sign", kwargs={"slug": cls.letter.slug})

    @FUZZ
    @given(st.dictionaries(st.sampled_from(SIGN_FIELDS), field_value, max_size=len(SIGN_FIELDS)))
    def test_any_form_data_gets_a_form_error_or_success_never_a_500(self, data):
        payload = {**form_guard(self.letter), **data}
        with self.captureOnCommitCallbacks(execute=True):
            response = self.client.post(self.url, payload)
        assert response.status_code in (302, 400), response.status_code

    @FUZZ
    @given(name=any_text, comment=any_text, city=any_text)
    def test_whatever_is_stored_round_trips_and_renders_escaped(self, name, comment, city):
        payload = {
            **form_guard(self.letter),
            "full_name": name,
            "email": "fuzz@example.org",
            "profession": str(self.letter.professions.first().pk),
            "city": city,
            "comment": comment,
            "wants_listing": "on",
        }
        with self.captureOnCommitCallbacks(execute=True):
            response = self.client.post(self.url, payload)
        assert response.status_code in (302, 400)
        signature = Signature.objects.filter(email_normalized="fuzz@example.org").first()
        if response.status_code == 400:
            assert signature is None
            return
        assert signature.full_name == collapse_whitespace(unicodedata.normalize("NFC", name))
        assert signature.city == collapse_whitespace(unicodedata.normalize("NFC", city))
        services.confirm_signature(token=make_token(signature, Purpose.CONFIRM))
        signature.refresh_from_db()
        assert signature.state == Signature.State.APPROVED
        page = self.client.get(reverse("signatures:signatories", kwargs={"slug": self.letter.slug}))
        assert page.status_code == 200
        body = page.content.decode()
        assert escape(signature.full_name) in body
        if "<" in signature.full_name:
            assert signature.full_name not in body


class TokenEndpointFuzzTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.letter = make_letter()
        cls.signature = make_signature(cls.letter)

    @FUZZ
    @given(
        token=st.one_of(any_text, st.text("0123456789abcdefz-", max_size=90)), method=st.sampled_from(["get", "post"])
    )
    @override_settings(SIGNATURES_LIMIT_TOKEN_POSTS_PER_IP="0")
    def test_any_token_in_a_link_is_refused_cleanly(self, token, method):
        for prefix in ("/confirm/", "/withdraw/"):
            path = f"{prefix}{quote(token, safe='')}/"
            response = getattr(self.client, method)(path)
            assert response.status_code in (400, 404), (path, response.status_code)
        self.signature.refresh_from_db()
        assert self.signature.state == Signature.State.SUBMITTED

    @FUZZ
    @given(token=st.one_of(any_text, st.text("0123456789abcdefz-", max_size=90)), purpose=st.sampled_from(Purpose))
    def test_the_token_parser_never_raises(self, token, purpose):
        parsed = parse_token(token)
        assert parsed is None or (isinstance(parsed[0], int) and parsed[0] > 0)
        assert check_token(self.signature, token, purpose) is False


class CsvFormulaTests(TestCase):
    def test_cells_that_spreadsheets_would_run_are_neutralised(self):
        for dangerous in ("=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1"):
            assert neutralise(dangerous).startswith("'"), dangerous
        assert neutralise("Agnès Varda") == "Agnès Varda"

    def test_the_public_csv_export_neutralises_a_hostile_name(self):
        letter = make_letter()
        make_signature(letter, Signature.State.APPROVED, full_name='=HYPERLINK("http://evil.example","x")')
        response = self.client.get(reverse("signatures:export_csv", kwargs={"slug": letter.slug}))
        body = b"".join(response.streaming_content).decode()
        assert "'=HYPERLINK" in body
        assert ",=HYPERLINK" not in body
        assert '"=HYPERLINK' not in body


class HeaderInjectionTests(TestCase):
    def test_a_name_carrying_a_bcc_header_is_a_form_error(self):
        letter = make_letter()
        data = {
            **form_guard(letter),
            "full_name": "Eve\r\nBcc: victim@example.org",
            "email": "eve@example.org",
            "profession": str(letter.professions.first().pk),
        }
        response = self.client.post(reverse("signatures:sign", kwargs={"slug": letter.slug}), data)
        assert response.status_code == 400
        assert not Signature.objects.exists()

    def test_even_past_the_form_a_name_cannot_add_a_recipient_or_header(self):
        letter = make_letter(sender_name="Campaign\r\nBcc: victim@example.org")
        with self.captureOnCommitCallbacks(execute=True):
            services.sign_letter(
                letter=letter, full_name="Eve\r\nBcc: victim@example.org", email="eve@example.org", profession=None
            )
        message = outbox.build_message(OutgoingEmail.objects.get())
        assert message.recipients() == ["eve@example.org"]
        header_lines = message.message().as_string().split("\n\n", 1)[0].splitlines()
        names = [line.split(":", 1)[0].lower() for line in header_lines if not line.startswith((" ", "\t"))]
        assert "bcc" not in names
        assert "cc" not in names
        assert [line for line in header_lines if line.startswith("To:")] == ["To: eve@example.org"]
        for sent in mail.outbox:
            assert sent.recipients() == ["eve@example.org"]

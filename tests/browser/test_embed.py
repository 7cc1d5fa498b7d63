"""
The sign widget on a partner's page, in Chromium: a page served from another
origin frames it, an unlisted origin's frame is refused by the browser (CSP
frame-ancestors), and a reader signs through the new tab to confirmation.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from django.test import override_settings
from playwright.sync_api import expect

from tests.browser.base import BrowserTestCase
from tests.factories import make_letter
from tests.helpers import links_in


def serve_partner_page(host: str, embed_url: str) -> ThreadingHTTPServer:
    """A partner's article with our widget in an iframe, on its own origin; stopped by the caller."""
    page = (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Partner news</title></head>"
        f"<body><h1>Partner news</h1><iframe src='{embed_url}' title='Sign the letter' "
        "width='360' height='320'></iframe></body></html>"
    ).encode()

    class PartnerPage(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer((host, 0), PartnerPage)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@override_settings(SIGNATURES_EMBED_ALLOW_LOOPBACK_HTTP=True)
class EmbedOnAPartnerSiteTests(BrowserTestCase):
    def setUp(self):
        self.letter = make_letter(
            title="Our work is not your training data",
            addressee="The Minister for Culture",
            goal=100,
            requires_moderation=False,
        )
        self.embed_url = f"{self.live_server_url}/letters/{self.letter.slug}/embed/"
        self.listed = self.start_partner("127.0.0.2")
        self.unlisted = self.start_partner("127.0.0.3")
        self.letter.embed_origins = f"http://127.0.0.2:{self.listed.server_address[1]}"
        self.letter.save()
        site = self.settings(SITE_URL=self.live_server_url)
        site.enable()
        self.addCleanup(site.disable)

    def start_partner(self, host: str) -> ThreadingHTTPServer:
        server = serve_partner_page(host, self.embed_url)
        self.addCleanup(server.server_close)
        self.addCleanup(server.shutdown)
        return server

    def partner_url(self, server: ThreadingHTTPServer) -> str:
        host, port = server.server_address[:2]
        return f"http://{host}:{port}/"

    def test_the_widget_renders_inside_a_listed_partners_frame(self):
        page = self.new_page()
        page.goto(self.partner_url(self.listed))
        frame = page.frame_locator("iframe")
        expect(frame.get_by_role("heading", level=1)).to_have_text("Our work is not your training data")
        expect(frame.get_by_text("To The Minister for Culture")).to_be_visible()
        expect(frame.locator(".count")).to_contain_text("0 signatures")
        assert [p for p in self.console_problems if "Content Security Policy" in p] == []

    def test_an_unlisted_origins_frame_is_refused_by_the_browser(self):
        page = self.new_page()
        page.goto(self.partner_url(self.unlisted), wait_until="load")
        expect(page.get_by_role("heading", name="Partner news")).to_be_visible()
        [frame] = [frame for frame in page.frames if frame != page.main_frame]
        # Chromium swaps a refused frame for its own error page: none of our text reaches the partner.
        expect(page.frame_locator("iframe").get_by_text("Our work is not your training data")).to_have_count(0)
        assert "Our work is not your training data" not in frame.content()
        assert any("frame-ancestors" in problem for problem in self.console_problems), self.console_problems

    def test_a_reader_signs_from_the_widget_through_to_confirmation(self):
        page = self.new_page()
        page.goto(self.partner_url(self.listed))
        with page.context.expect_page() as opened:
            page.frame_locator("iframe").get_by_role("link", name="Sign this letter").click()
        tab = opened.value
        tab.wait_for_load_state()
        assert tab.url == f"{self.live_server_url}{self.letter.get_absolute_url()}#sign"
        # A top-level tab on our own site: the CSRF cookie and the bot checks work as for any signer.
        tab.get_by_label("Full name").fill("Agnès Varda")
        tab.get_by_label("Email", exact=True).fill("agnes@example.org")
        tab.get_by_label("Profession").select_option(label="Director")
        tab.get_by_label("Show my name on the public list of signatories").check()
        tab.get_by_role("button", name="Sign the letter").click()
        expect(tab.get_by_role("heading", level=1)).to_have_text("Check your email")

        message = self.wait_for_email("agnes@example.org")
        [link] = [link for link in links_in(message) if "/confirm/" in link]
        tab.goto(urlsplit(link).path)
        tab.get_by_role("button", name="Confirm my signature").click()
        expect(tab.get_by_role("heading", level=1)).to_have_text("Thank you for signing")

        # Counted and listed (the widget itself may be kept up to a minute by the browser: max-age=60).
        tab.goto(self.letter.get_absolute_url())
        expect(tab.locator(".signatory-list")).to_contain_text("Agnès Varda")
        expect(tab.locator(".count")).to_contain_text("1 signature")

"""
Screenshots of every step a signer and a moderator see, at phone and desktop
widths, saved into docs/screenshots/ (`make screenshots`). Names given on the
command line (`python docs/screenshots.py flyer embed`) save only those.

It runs the site on a throwaway SQLite database with demo data, in this
process, and drives Debian's chromium with Playwright. Nothing is sent
anywhere; the database is deleted afterwards.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
WORK = Path(tempfile.mkdtemp(prefix="undersigned-screenshots-"))

sys.path.insert(0, str(ROOT))
os.environ.update(
    {
        "DJANGO_SETTINGS_MODULE": "letter_site.settings",
        "DJANGO_ALLOW_ASYNC_UNSAFE": "true",
        "DEBUG": "1",
        "DATABASE_URL": f"sqlite:///{WORK / 'screenshots.sqlite3'}",
        "CACHE_URL": "locmemcache://",
        "EMAIL_URL": "memorymail://",
        "SIGNATURES_MIN_FILL_SECONDS": "0",
        "LOG_LEVEL": "ERROR",
    }
)

import django  # noqa: E402

django.setup()

from django.contrib.auth.models import Group  # noqa: E402
from django.contrib.staticfiles.handlers import StaticFilesHandler  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test.testcases import LiveServerThread  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from signatures import services  # noqa: E402
from signatures.models import Signature  # noqa: E402
from tests.browser.base import DESKTOP, PHONE, launch_chromium  # noqa: E402
from tests.factories import make_signature, make_staff  # noqa: E402
from tests.pages import confirm_path, pending_signature, seed_demo_letter, seed_moderation_queue  # noqa: E402

ONLY = set(sys.argv[1:])
WAITING = ["Jean Dupont", "Ana Souza", "Lena Fischer", "Sam Okafor", "Yuki Tanaka", "Marta Nowak"]


def seed():
    letter = seed_demo_letter()
    professions = list(letter.professions.all())
    for index, name in enumerate(WAITING):
        make_signature(
            letter,
            Signature.State.CONFIRMED,
            full_name=name,
            email=f"waiting{index}@example.org",
            profession=professions[index % len(professions)],
            city=["Paris", "São Paulo", "Vienna", "Lagos", "Osaka", "Kraków"][index],
        )
    # Held look-alikes of a watchlist name, with their match, and a volume hold.
    seed_moderation_queue(letter)
    # A real moderator: the queue as the restricted Moderators group sees it.
    moderator = make_staff("moderator", superuser=False)
    moderator.groups.add(Group.objects.get(name="Moderators"))
    # A second text, so the versions page has a change to show.
    services.ensure_letter_version(letter=letter)
    letter.body = letter.body.replace("We are not against new tools.", "We are not against new tools or research.")
    letter.save()
    services.publish_letter_version(letter=letter, is_major=False, note="A clearer sentence on research")
    return letter


def shoot(page, name: str, size_name: str) -> None:
    if ONLY and name not in ONLY:
        return
    suffix = "" if size_name == "phone" else f"-{size_name}"
    path = OUT / f"{name}{suffix}.png"
    page.screenshot(path=str(path))
    print(f"saved {path.relative_to(ROOT)}")  # noqa: T201


def log_in(page) -> None:
    page.goto("/admin/")
    page.get_by_label("Username").fill("moderator")
    page.get_by_label("Password").fill("a-long-test-password")
    page.locator("input[type=submit], button[type=submit]").first.click()
    page.wait_for_url("**/admin/")


def shoot_sharing_and_trust_pages(context, page, letter, size_name: str) -> None:
    """The text versions, withdrawal, the printable flyer (on screen and as printed) and the embed."""
    page.goto(f"/letters/{letter.slug}/versions/2/")
    shoot(page, "version", size_name)

    page.goto(f"/letters/{letter.slug}/withdraw/")
    shoot(page, "withdraw", size_name)

    page.goto(f"/letters/{letter.slug}/flyer/")
    shoot(page, "flyer", size_name)
    page.emulate_media(media="print")
    shoot(page, "flyer-print", size_name)
    page.emulate_media(media="screen")

    # The widget as a partner's 360 x 320 iframe shows it.
    widget = context.new_page()
    widget.set_viewport_size({"width": 360, "height": 320})
    widget.goto(f"/letters/{letter.slug}/embed/")
    shoot(widget, "embed", size_name)
    widget.close()


def main() -> None:
    setup_test_environment()
    call_command("migrate", verbosity=0)
    letter = seed()
    server = LiveServerThread("127.0.0.1", StaticFilesHandler, port=0)
    server.daemon = True
    server.start()
    server.is_ready.wait()
    if server.error:
        raise server.error
    base = f"http://127.0.0.1:{server.port}"
    OUT.mkdir(parents=True, exist_ok=True)
    try:
        with sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            for size_name, size in (("phone", PHONE), ("desktop", {**DESKTOP, "device_scale_factor": 1})):
                context = browser.new_context(base_url=base, **size)
                page = context.new_page()

                page.goto(letter.get_absolute_url())
                shoot(page, "letter", size_name)

                page.get_by_label("Email", exact=True).fill("agnes@")
                page.get_by_role("button", name="Sign the letter").click()
                page.wait_for_selector("#error-summary")
                shoot(page, "form-errors", size_name)

                page.goto(f"/letters/{letter.slug}/check-your-email/")
                shoot(page, "check-your-email", size_name)

                page.goto(confirm_path(pending_signature(letter, f"ada-{size_name}@example.org")))
                shoot(page, "confirm", size_name)
                page.get_by_role("button", name="Confirm my signature").click()
                page.wait_for_selector("text=Thank you for signing")
                shoot(page, "thank-you", size_name)

                page.goto(f"/letters/{letter.slug}/signatories/")
                shoot(page, "signatories", size_name)

                shoot_sharing_and_trust_pages(context, page, letter, size_name)

                log_in(page)
                page.goto("/admin/signatures/signature/")  # opens on the moderation queue
                shoot(page, "admin-queue", size_name)
                context.close()
            # The queue at the sizes organizers work at: a laptop and a phone.
            for width, height in ((1280, 800), (390, 844)):
                phone = width < 768
                context = browser.new_context(
                    base_url=base,
                    **(PHONE if phone else {"reduced_motion": "reduce"}),
                    **({} if phone else {"viewport": {"width": width, "height": height}}),
                )
                page = context.new_page()
                log_in(page)
                page.goto("/admin/signatures/signature/")
                path = OUT / f"moderation-queue-{width}x{height}.png"
                page.screenshot(path=str(path))
                print(f"saved {path.relative_to(ROOT)}")  # noqa: T201
                context.close()
            browser.close()
    finally:
        server.terminate()
        for path in WORK.iterdir():
            path.unlink()
        WORK.rmdir()


if __name__ == "__main__":
    main()

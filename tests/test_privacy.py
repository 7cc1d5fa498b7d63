"""
Privacy: an email address is never shown publicly, in any page, export or
JSON, nor written to a log; consent to be listed is recorded with its time and
wording; IP hashes are dropped after their retention period; an organizer can
erase every trace of an address.
"""

from __future__ import annotations

import io
import logging
import re
from types import SimpleNamespace

import time_machine
from django.apps import apps
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import models
from django.test import TestCase, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from gunicorn.config import Config

from signatures import services
from signatures.models import BlockedAddress, OutgoingEmail, PrivacyNotice, Signature, SignatureCounter
from signatures.ops.gunicorn_logging import RedactingLogger
from signatures.ops.redaction import RedactSecretsFilter, redact
from signatures.tokens import Purpose, make_token
from tests.factories import make_letter, make_signature, make_staff, sign_data

# Placeholders for URL parameters that are not slugs or tokens.
_SAMPLE_VALUES = {"int": "1", "path": "x", "uuid": "00000000-0000-0000-0000-000000000000"}


def public_url_patterns() -> list[tuple[str, URLPattern]]:
    """Every named URL of the site outside the admin, read from the URLconf so new pages are covered."""
    found: list[tuple[str, URLPattern]] = []

    def walk(patterns, namespace):
        for entry in patterns:
            if isinstance(entry, URLResolver):
                if entry.namespace == "admin" or entry.app_name == "admin":
                    continue
                inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
                walk(entry.url_patterns, inner)
            elif isinstance(entry, URLPattern) and entry.name:
                found.append((f"{namespace}{entry.name}", entry))

    walk(get_resolver().url_patterns, "")
    return found


def every_stored_email() -> set[str]:
    """Every value of every email-like column in the database."""
    emails: set[str] = set()
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if isinstance(field, models.EmailField) or "email" in field.name:
                if not isinstance(field, (models.CharField, models.TextField)):
                    continue
                values = model._default_manager.values_list(field.name, flat=True)
                emails.update(v for v in values if isinstance(v, str) and "@" in v and "<" not in v)
    return emails


class NoEmailOnAnyPublicUrlTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.letter = make_letter(requires_moderation=True)
        states = [Signature.State.APPROVED] * 3 + [
            Signature.State.CONFIRMED,
            Signature.State.SUBMITTED,
            Signature.State.REJECTED,
        ]
        cls.signatures = [
            make_signature(
                cls.letter,
                state,
                email=f"secret.person{n}@private-domain.example",
                full_name=f"Public Name {n}",
                is_notable=n == 0,
            )
            for n, state in enumerate(states)
        ]
        make_staff()  # an organizer's address is stored too

    def kwargs_for(self, pattern: URLPattern) -> list[dict[str, str]]:
        converters = pattern.pattern.converters
        names = list(converters)
        if not names:
            return [{}]
        if "token" in names:
            tokens = [make_token(s, purpose) for s in self.signatures for purpose in Purpose] + ["not-a-token"]
            return [{"token": token} for token in tokens]
        values = {}
        for name, converter in converters.items():
            if name == "slug":
                values[name] = self.letter.slug
            else:
                values[name] = _SAMPLE_VALUES.get(type(converter).__name__.removesuffix("Converter").lower(), "1")
        return [values]

    def public_urls(self) -> list[str]:
        urls = []
        for name, pattern in public_url_patterns():
            for kwargs in self.kwargs_for(pattern):
                urls.append(reverse(name, kwargs=kwargs))
        return urls

    def test_the_url_list_comes_from_the_urlconf_and_covers_the_known_pages(self):
        urls = self.public_urls()
        for expected in ("home", "letter", "signatories", "check_email", "confirm", "privacy"):
            assert any(name == f"signatures:{expected}" for name, _ in public_url_patterns()), expected
        assert len(urls) > 10

    def test_no_public_url_contains_any_stored_email(self):
        with self.captureOnCommitCallbacks(execute=True):
            # A queued email and an organizer's blocklist entry are stored addresses too.
            self.client.post(
                reverse("signatures:sign", kwargs={"slug": self.letter.slug}),
                sign_data(self.letter, email="queued.person@private-domain.example"),
            )
        BlockedAddress.objects.create(email_normalized="blocked.person@private-domain.example")
        emails = every_stored_email()
        assert "secret.person0@private-domain.example" in emails
        assert "queued.person@private-domain.example" in emails
        local_parts = {email.split("@")[0] for email in emails if email.count(".") >= 2}
        for url in self.public_urls():
            response = self.client.get(url, follow=True)
            if hasattr(response, "streaming_content"):
                body = b"".join(response.streaming_content).decode(errors="replace")
            else:
                body = response.content.decode(errors="replace")
            for email in emails:
                assert email not in body, f"{email} leaked on {url}"
            for local in local_parts:
                assert local not in body, f"{local} leaked on {url}"

    def test_a_signature_string_never_shows_the_email(self):
        signature = self.signatures[0]
        assert signature.email not in str(signature)


class NoSecretInLogsTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.letter = make_letter()
        cls.pending = make_signature(cls.letter, email="log.leak.pending@private-domain.example")

    def configured_handlers(self) -> list[logging.Handler]:
        handlers = [
            handler
            for handler in logging.getLogger().handlers
            if any(isinstance(f, RedactSecretsFilter) for f in handler.filters)
        ]
        assert handlers, "LOGGING attaches RedactSecretsFilter to the root handlers"
        return handlers

    def test_requests_that_log_their_paths_write_no_email_and_no_token(self):
        stream = io.StringIO()
        handler = self.configured_handlers()[0]
        previous = handler.setStream(stream)
        tokens = [make_token(self.pending, purpose) for purpose in Purpose]
        try:
            with self.captureOnCommitCallbacks(execute=True):
                self.client.post(
                    reverse("signatures:sign", kwargs={"slug": self.letter.slug}),
                    sign_data(self.letter, email="log.leak.new@private-domain.example"),
                )
                # An invalid form is a 400, which Django logs with its path.
                self.client.post(
                    reverse("signatures:sign", kwargs={"slug": self.letter.slug}),
                    sign_data(self.letter, email="log.leak.bad@private-domain.example", full_name=""),
                )
            for token in tokens:
                for prefix in ("/confirm/", "/withdraw/", "/reaffirm/"):
                    self.client.get(f"{prefix}{token}/")
                    self.client.post(f"{prefix}{token}x/")
            self.client.get("/letters/log.leak.path@private-domain.example/")
            logging.getLogger("django.request").warning("Something about %s", "log.leak.arg@private-domain.example")
        finally:
            handler.setStream(previous)
        output = stream.getvalue()
        assert "Bad Request" in output or "Not Found" in output, "the scan saw Django's request log"
        assert "private-domain.example" not in output
        for token in tokens:
            assert token not in output
            assert token.rsplit("-", 1)[1] not in output

    def test_the_filter_redacts_tokens_and_addresses(self):
        line = "Bad Request: /confirm/1-abc-" + "f" * 64 + "/ for Someone.Else+tag@Example.org"
        assert redact(line) == "Bad Request: /confirm/[token]/ for [email]"


class ListingConsentTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.letter = make_letter()
        cls.url = reverse("signatures:sign", kwargs={"slug": cls.letter.slug})

    def sign(self, **overrides):
        with self.captureOnCommitCallbacks(execute=True):
            self.client.post(self.url, sign_data(self.letter, **overrides))
        return Signature.objects.get(email_normalized=overrides.get("email", "agnes@example.org"))

    def test_the_box_is_unticked_and_linked_to_the_privacy_notice(self):
        page = self.client.get(self.letter.get_absolute_url()).content.decode()
        box = re.search(r'<input[^>]*name="wants_listing"[^>]*>', page)[0]
        assert "checked" not in box
        assert reverse("signatures:privacy") in page

    def test_consent_is_recorded_with_its_time_and_wording(self):
        moment = timezone.now().replace(microsecond=0)
        with time_machine.travel(moment, tick=False):
            signature = self.sign(wants_listing="on")
        assert signature.wants_listing is True
        assert signature.listing_consent_at == moment
        assert signature.consent_version == "1/default"

    def test_no_consent_no_time(self):
        signature = self.sign(wants_listing=None)
        assert signature.wants_listing is False
        assert signature.listing_consent_at is None

    def test_the_version_names_the_privacy_notice_in_force(self):
        PrivacyNotice.objects.create(title="Privacy", body="Text", version="2026-11")
        assert self.sign(wants_listing="on").consent_version == "1/2026-11"

    def test_the_privacy_page_works_before_organizers_write_a_notice(self):
        page = self.client.get(reverse("signatures:privacy"))
        self.assertContains(page, "salted hash")
        self.assertContains(page, "never shown publicly")

    def test_the_privacy_page_says_a_delivered_list_keeps_the_names_it_was_delivered_with(self):
        page = self.client.get(reverse("signatures:privacy"))
        self.assertContains(page, "Once the letter is delivered")
        self.assertContains(page, "your name stays on the copy already delivered")


class IpHashRetentionTests(TestCase):
    @override_settings(SIGNATURES_IP_HASH_RETENTION_DAYS=30)
    def test_ip_hashes_older_than_the_retention_period_are_dropped(self):
        letter = make_letter()
        old = make_signature(letter, ip_hash=services.hash_ip("198.51.100.1"))
        Signature.objects.filter(pk=old.pk).update(created_at=timezone.now() - timezone.timedelta(days=31))
        recent = make_signature(letter, ip_hash=services.hash_ip("198.51.100.2"))
        out = io.StringIO()
        call_command("drop_old_ip_hashes", stdout=out)
        assert "Dropped the IP hash of 1 signature(s)" in out.getvalue()
        old.refresh_from_db()
        recent.refresh_from_db()
        assert old.ip_hash == ""
        assert recent.ip_hash != ""

    def test_the_ip_is_kept_only_as_a_salted_hash(self):
        letter = make_letter()
        with self.captureOnCommitCallbacks(execute=True):
            self.client.post(
                reverse("signatures:sign", kwargs={"slug": letter.slug}), sign_data(letter), REMOTE_ADDR="198.51.100.9"
            )
        signature = Signature.objects.get()
        assert signature.ip_hash == services.hash_ip("198.51.100.9")
        assert "198.51.100.9" not in str(Signature.objects.values().get())


class EraseAddressTests(TestCase):
    ADDRESS = "erase.me@private-domain.example"

    def setUp(self):
        self.letter = make_letter()
        self.other_letter = make_letter()
        with self.captureOnCommitCallbacks(execute=True):
            self.client.post(
                reverse("signatures:sign", kwargs={"slug": self.other_letter.slug}),
                sign_data(self.other_letter, email="Erase.Me@private-domain.example"),
            )
        self.approved = make_signature(
            self.letter, Signature.State.APPROVED, email=self.ADDRESS, full_name="Erasable Person"
        )
        self.kept = make_signature(self.letter, Signature.State.APPROVED, email="stays@private-domain.example")
        BlockedAddress.objects.create(email_normalized=self.ADDRESS)

    def text_rows_mentioning(self, needle: str) -> list[str]:
        hits = []
        for model in apps.get_models():
            for field in model._meta.concrete_fields:
                if isinstance(field, (models.CharField, models.TextField)):
                    lookup = {f"{field.name}__icontains": needle}
                    if model._default_manager.filter(**lookup).exists():
                        hits.append(f"{model._meta.label}.{field.name}")
        return hits

    def test_every_trace_of_the_address_is_erased_and_counts_stay_exact(self):
        # A moderator approved it: the admin's history names the signature.
        LogEntry.objects.log_actions(
            user_id=make_staff().pk, queryset=[self.approved], action_flag=CHANGE, change_message="Approved"
        )
        assert LogEntry.objects.filter(object_repr__contains=self.approved.full_name).exists()
        assert self.text_rows_mentioning(self.ADDRESS)
        erased = services.erase_address(email="ERASE.ME@private-domain.example")
        assert erased["signatures"] == 2
        assert self.text_rows_mentioning(self.ADDRESS) == []
        assert self.text_rows_mentioning(self.approved.full_name) == []
        assert Signature.objects.filter(pk=self.kept.pk).exists()
        assert SignatureCounter.value_for(self.letter, SignatureCounter.PUBLIC) == 1
        assert SignatureCounter.value_for(self.other_letter, "state:submitted") == 0
        assert services.recount_letter(letter=self.letter) == {}
        assert not OutgoingEmail.objects.filter(to_email__iexact=self.ADDRESS).exists()

    def test_an_organizer_erases_an_address_from_the_admin(self):
        self.client.force_login(make_staff())
        page = self.client.get(reverse("admin:erase_address"))
        assert page.status_code == 200
        response = self.client.post(
            reverse("admin:erase_address"), {"email": self.ADDRESS, "confirm": "on"}, follow=True
        )
        self.assertContains(response, "Address erased")
        assert self.text_rows_mentioning(self.ADDRESS) == []

    def test_moderators_who_are_not_superusers_cannot_erase(self):
        moderator = get_user_model().objects.create_user(username="mod", password="x" * 20, is_staff=True)
        self.client.force_login(moderator)
        self.client.post(reverse("admin:erase_address"), {"email": self.ADDRESS, "confirm": "on"})
        assert Signature.objects.filter(email_normalized=self.ADDRESS).exists()


class GunicornAccessLogTests(TestCase):
    def test_the_access_log_line_carries_no_token_or_email(self):

        token = "1-abc-" + "f" * 64
        environ = {
            "REQUEST_METHOD": "POST",
            "RAW_URI": f"/confirm/{token}/?email=someone@example.org",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "PATH_INFO": f"/confirm/{token}/",
            "QUERY_STRING": "email=someone@example.org",
            "HTTP_REFERER": f"https://letters.example.org/withdraw/{token}/",
            "REMOTE_ADDR": "198.51.100.1",
        }
        response = SimpleNamespace(status="200 OK", sent=10, headers=[], response_length=10)
        request = SimpleNamespace(headers=[])
        logger = RedactingLogger(Config())
        atoms = logger.atoms(response, request, environ, timezone.timedelta(seconds=0.01))
        line = " ".join(str(value) for value in atoms.values())
        assert token not in line
        assert "someone@example.org" not in line
        assert "/confirm/[token]/" in atoms["r"]


class DailyPurgeDropsIpHashesTests(TestCase):
    def test_purge_signatures_also_drops_old_ip_hashes(self):
        letter = make_letter()
        old = make_signature(letter, Signature.State.APPROVED, ip_hash=services.hash_ip("198.51.100.1"))
        Signature.objects.filter(pk=old.pk).update(created_at=timezone.now() - timezone.timedelta(days=31))
        out = io.StringIO()
        call_command("purge_signatures", stdout=out)
        assert "Dropped the IP hash of 1 signature(s)" in out.getvalue()
        old.refresh_from_db()
        assert old.ip_hash == ""

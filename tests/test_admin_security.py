"""
The admin: login lockout (django-axes), strong passwords, idle timeout for
staff, optional-or-mandatory TOTP, a configurable path, never indexed; and
the organizers' abuse and privacy screens.
"""

from __future__ import annotations

import time

import time_machine
from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import RequestFactory, TestCase, override_settings
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from signatures.models import (
    AllowedDomain,
    AllowedNetwork,
    BlockedAddress,
    BlockedDomain,
    CaughtSubmission,
    PrivacyNotice,
)
from tests.factories import make_letter, make_staff

PASSWORD = "a-long-test-password"


class LoginLockoutTests(TestCase):
    login_url = reverse_lazy("admin:login")

    def setUp(self):
        # Made per test: conftest switches to a fast password hasher only inside each test.
        self.staff = make_staff()

    def attempt(self, password, ip="198.51.100.1"):
        return self.client.post(
            self.login_url,
            {"username": "organizer", "password": password, "next": reverse("admin:index")},
            REMOTE_ADDR=ip,
        )

    @override_settings(AXES_FAILURE_LIMIT=3)
    def test_repeated_wrong_passwords_lock_the_login_even_for_the_right_password(self):
        for _ in range(2):
            assert self.attempt("wrong").status_code == 200
        assert self.attempt("wrong").status_code == 429
        assert self.attempt(PASSWORD).status_code == 429
        assert "_auth_user_id" not in self.client.session

    @override_settings(AXES_FAILURE_LIMIT=3)
    def test_the_lockout_is_per_username_and_ip_so_an_attacker_cannot_lock_out_the_team(self):
        for _ in range(3):
            self.attempt("wrong", ip="198.51.100.1")
        response = self.attempt(PASSWORD, ip="203.0.113.5")
        self.assertRedirects(response, reverse("admin:index"))

    @override_settings(AXES_FAILURE_LIMIT=3)
    def test_the_lockout_ends_after_the_cool_off(self):
        for _ in range(3):
            self.attempt("wrong")
        with time_machine.travel(timezone.now() + timezone.timedelta(minutes=31)):
            self.assertRedirects(self.attempt(PASSWORD), reverse("admin:index"))

    def test_authenticate_needs_the_request_so_lockouts_apply_everywhere(self):
        request = RequestFactory().post(self.login_url, REMOTE_ADDR="198.51.100.1")
        assert authenticate(request, username="organizer", password=PASSWORD) == self.staff

    def test_weak_passwords_are_refused(self):
        for weak in ("short1", "password1234", "123456789012", "organizer-2026"):
            try:
                validate_password(weak, user=self.staff)
            except ValidationError:
                continue
            raise AssertionError(f"{weak!r} was accepted")


class AdminSessionTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.staff = make_staff()

    @override_settings(SIGNATURES_STAFF_IDLE_TIMEOUT_MINUTES=30)
    def test_idle_staff_are_signed_out(self):
        self.client.force_login(self.staff)
        index = reverse("admin:index")
        with time_machine.travel(time.time(), tick=False) as traveller:
            assert self.client.get(index).status_code == 200
            traveller.shift(29 * 60)
            assert self.client.get(index).status_code == 200
            traveller.shift(31 * 60)
            response = self.client.get(index)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))
        assert "_auth_user_id" not in self.client.session

    def test_every_admin_page_is_noindex(self):
        assert "noindex" in self.client.get(reverse("admin:login"))["X-Robots-Tag"]
        self.client.force_login(self.staff)
        for url in (
            reverse("admin:index"),
            reverse("admin:signatures_signature_changelist"),
            reverse("admin:signatures_allowednetwork_add"),
        ):
            response = self.client.get(url)
            assert response.status_code == 200, url
            assert "noindex" in response["X-Robots-Tag"], url

    def test_the_admin_path_comes_from_a_setting(self):

        assert reverse("admin:index") == f"/{settings.ADMIN_URL}"


class TwoFactorTests(TestCase):
    def setUp(self):
        self.staff = make_staff()

    def add_device(self):
        return TOTPDevice.objects.create(user=self.staff, name="phone", confirmed=True)

    def login(self, **extra):
        return self.client.post(
            reverse("admin:login"),
            {"username": "organizer", "password": PASSWORD, "next": reverse("admin:index"), **extra},
        )

    def test_without_a_device_a_password_is_enough_when_2fa_is_optional(self):
        self.assertRedirects(self.login(), reverse("admin:index"))

    def test_with_a_device_the_code_is_required(self):
        device = self.add_device()
        response = self.login()
        assert response.status_code == 200
        assert "_auth_user_id" not in self.client.session
        code = f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):0{device.digits}d}"
        self.assertRedirects(self.login(otp_device=device.persistent_id, otp_token=code), reverse("admin:index"))

    @override_settings(SIGNATURES_STAFF_REQUIRE_2FA=True)
    def test_when_2fa_is_mandatory_staff_without_a_verified_device_are_kept_out(self):
        assert self.login().status_code == 200
        assert "_auth_user_id" not in self.client.session
        self.client.force_login(self.staff)
        response = self.client.get(reverse("admin:index"))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))


class OrganizerScreensTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.staff = make_staff()
        cls.letter = make_letter()

    def setUp(self):
        self.client.force_login(self.staff)

    def test_allow_and_block_lists_are_editable(self):
        self.client.post(reverse("admin:signatures_allowednetwork_add"), {"cidr": "192.0.2.7/24", "note": "Studio"})
        assert AllowedNetwork.objects.get().cidr == "192.0.2.0/24"
        self.client.post(reverse("admin:signatures_alloweddomain_add"), {"domain": "Studio.Example", "note": ""})
        assert AllowedDomain.objects.get().domain == "studio.example"
        self.client.post(reverse("admin:signatures_blockeddomain_add"), {"domain": "@spam.example", "note": ""})
        assert BlockedDomain.objects.get().domain == "spam.example"
        self.client.post(reverse("admin:signatures_blockedaddress_add"), {"email_normalized": "Troll@Example.org"})
        assert BlockedAddress.objects.get().email_normalized == "troll@example.org"

    def test_a_network_that_is_not_one_is_refused(self):
        response = self.client.post(reverse("admin:signatures_allowednetwork_add"), {"cidr": "not a network"})
        assert response.status_code == 200
        assert not AllowedNetwork.objects.exists()

    def test_caught_submissions_are_visible_but_read_only(self):
        CaughtSubmission.objects.create(letter=self.letter, day=timezone.localdate(), reason="honeypot", count=7)
        response = self.client.get(reverse("admin:signatures_caughtsubmission_changelist"))
        self.assertContains(response, "Filled the hidden field")
        assert self.client.get(reverse("admin:signatures_caughtsubmission_add")).status_code == 403

    def test_the_privacy_notice_is_edited_in_the_admin_and_shown_on_the_site(self):
        self.client.post(
            reverse("admin:signatures_privacynotice_add"),
            {"title": "How we use your data", "version": "2026-11", "body": "We keep **little**."},
        )
        assert PrivacyNotice.current().version == "2026-11"
        page = self.client.get(reverse("signatures:privacy"))
        self.assertContains(page, "How we use your data")
        self.assertContains(page, "<strong>little</strong>", html=True)

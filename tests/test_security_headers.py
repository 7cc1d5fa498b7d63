"""
Security headers on every kind of page, `no-store` on token pages, request
guards (size, encoding), and a production configuration that passes
`manage.py check --deploy`.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

from django.conf import settings
from django.test import TestCase, override_settings
from django.urls import reverse

from signatures.tokens import Purpose, make_token
from tests.factories import make_letter, make_signature, make_staff, sign_data

BASE_DIR = Path(settings.BASE_DIR)


def production_env(**extra: str) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "letters.example.org",
        "SITE_URL": "https://letters.example.org",
        "DATABASE_URL": "sqlite:////tmp/undersigned-deploy-check.sqlite3",
        **extra,
    }


def csp_directives(response) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in (p.strip() for p in policy.split(";")) if part}


class HeadersOnEveryPageTypeTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.letter = make_letter()
        cls.signature = make_signature(cls.letter)
        cls.staff = make_staff()

    def pages(self):
        letter = self.letter
        token = make_token(self.signature, Purpose.CONFIRM)
        self.client.force_login(self.staff)
        admin_index = self.client.get(reverse("admin:index"))
        admin_changelist = self.client.get(reverse("admin:signatures_signature_changelist"))
        admin_forms = {
            "admin letter form": self.client.get(reverse("admin:signatures_letter_add")),
            "admin signature form": self.client.get(
                reverse("admin:signatures_signature_change", args=[self.signature.pk])
            ),
            "admin erase address": self.client.get(reverse("admin:erase_address")),
        }
        self.client.logout()
        return {
            "home": self.client.get(reverse("signatures:home")),
            "letter": self.client.get(letter.get_absolute_url()),
            "form error": self.client.post(reverse("signatures:sign", kwargs={"slug": letter.slug}), {}),
            "after signing": self.client.get(reverse("signatures:check_email", kwargs={"slug": letter.slug})),
            "signatories": self.client.get(reverse("signatures:signatories", kwargs={"slug": letter.slug})),
            "token page": self.client.get(reverse("signatures:confirm", kwargs={"token": token})),
            "withdraw page": self.client.get(
                reverse("signatures:withdraw", kwargs={"token": make_token(self.signature, Purpose.WITHDRAW)})
            ),
            "bad token": self.client.get(reverse("signatures:confirm", kwargs={"token": "nope"})),
            "privacy": self.client.get(reverse("signatures:privacy")),
            "not found": self.client.get("/no-such-page/"),
            "admin login": self.client.get(reverse("admin:login")),
            "admin index": admin_index,
            "admin list": admin_changelist,
            **admin_forms,
        }

    def test_every_page_type_sends_the_security_headers(self):
        for name, response in self.pages().items():
            assert response.status_code in (200, 302, 400, 404), (name, response.status_code)
            assert response["X-Content-Type-Options"] == "nosniff", name
            assert response["X-Frame-Options"] == "DENY", name
            assert response["Referrer-Policy"] == "same-origin", name
            assert response["Cross-Origin-Opener-Policy"] == "same-origin", name
            assert response["Cross-Origin-Resource-Policy"] == "same-origin", name
            directives = csp_directives(response)
            assert directives["default-src"] == ["'self'"], name
            assert directives["script-src"] == ["'self'"], name
            assert directives["object-src"] == ["'none'"], name
            assert directives["base-uri"] == ["'none'"], name
            assert directives["frame-ancestors"] == ["'none'"], name
            assert directives["form-action"] == ["'self'"], name
            assert "unsafe-inline" not in response["Content-Security-Policy"], name
            assert "unsafe-eval" not in response["Content-Security-Policy"], name

    def test_no_page_has_inline_script_that_the_policy_would_block(self):
        for name, response in self.pages().items():
            html = response.content.decode()
            for match in re.finditer(r"<script(?P<attrs>[^>]*)>(?P<body>.*?)</script>", html, re.DOTALL):
                attrs, body = match["attrs"], match["body"].strip()
                is_data = 'type="application/json"' in attrs or "type='application/json'" in attrs
                assert "src=" in attrs or is_data or not body, f"inline script on {name}"
            assert not re.search(r"\son[a-z]+=\"", html), f"inline event handler on {name}"

    def test_admin_pages_and_token_pages_are_never_indexed(self):
        pages = self.pages()
        for name in ("admin login", "admin index", "admin list", "token page", "withdraw page", "bad token"):
            assert "noindex" in pages[name]["X-Robots-Tag"], name

    def test_token_pages_are_not_stored_and_load_nothing_from_elsewhere(self):
        pages = self.pages()
        for name in ("token page", "withdraw page", "bad token"):
            response = pages[name]
            assert "no-store" in response["Cache-Control"], name
            html = response.content.decode()
            for url in re.findall(r'(?:src|href)="([^"]+)"', html):
                assert url.startswith(("/", "#", settings.SITE_URL)), f"{url} on {name}"

    def test_public_exports_may_be_read_by_other_sites(self):
        response = self.client.get(reverse("signatures:count_json", kwargs={"slug": self.letter.slug}))
        assert response["Cross-Origin-Resource-Policy"] == "cross-origin"


class RequestGuardTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.letter = make_letter()
        cls.url = reverse("signatures:sign", kwargs={"slug": cls.letter.slug})

    def test_an_oversize_body_is_refused_before_it_is_read(self):
        data = sign_data(self.letter, comment="x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1))
        response = self.client.post(self.url, data)
        assert response.status_code == 413

    @override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=None)
    def test_without_a_cap_a_long_comment_is_a_form_error(self):
        response = self.client.post(self.url, sign_data(self.letter, comment="x" * 5000))
        assert response.status_code == 400

    def test_invalid_utf8_in_the_path_is_a_400(self):
        assert self.client.get("/letters/%FF%FE/").status_code == 400

    def test_invalid_utf8_in_the_query_string_is_a_400(self):
        response = self.client.get(reverse("signatures:signatories", kwargs={"slug": self.letter.slug}) + "?q=%C3%28")
        assert response.status_code == 400

    def test_invalid_utf8_in_a_form_body_is_a_400(self):
        response = self.client.post(
            self.url, "full_name=%FF%FE&email=a%40example.org", content_type="application/x-www-form-urlencoded"
        )
        assert response.status_code == 400

    def test_valid_non_ascii_text_is_fine(self):
        assert self.client.get(self.letter.get_absolute_url() + "?q=Agn%C3%A8s").status_code == 200


class DeployCheckTests(TestCase):
    def run_manage(self, *args: str, **env: str) -> subprocess.CompletedProcess:
        return subprocess.run(  # noqa: S603
            [sys.executable, "manage.py", *args],
            cwd=BASE_DIR,
            env=production_env(**env),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    def test_check_deploy_passes_with_production_environment_variables(self):
        result = self.run_manage("check", "--deploy", "--fail-level", "WARNING")
        assert result.returncode == 0, result.stdout + result.stderr

    def test_production_settings_are_strict(self):
        script = (
            "from django.conf import settings as s; import json; print(json.dumps({k: getattr(s, k) for k in ["
            "'SECURE_HSTS_SECONDS','SECURE_HSTS_INCLUDE_SUBDOMAINS','SECURE_SSL_REDIRECT','SESSION_COOKIE_SECURE',"
            "'CSRF_COOKIE_SECURE','SESSION_COOKIE_HTTPONLY','SESSION_COOKIE_SAMESITE','CSRF_COOKIE_SAMESITE',"
            "'SECURE_CONTENT_TYPE_NOSNIFF','X_FRAME_OPTIONS','SECURE_REFERRER_POLICY',"
            "'SECURE_CROSS_ORIGIN_OPENER_POLICY']}))"
        )
        result = self.run_manage("shell", "-c", script)
        assert result.returncode == 0, result.stderr
        values = json.loads(result.stdout.strip().splitlines()[-1])
        assert values["SECURE_HSTS_SECONDS"] >= 31536000
        assert values["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
        assert values["SECURE_SSL_REDIRECT"] is True
        assert values["SESSION_COOKIE_SECURE"] is True
        assert values["CSRF_COOKIE_SECURE"] is True
        assert values["SESSION_COOKIE_HTTPONLY"] is True
        assert values["SESSION_COOKIE_SAMESITE"] in ("Lax", "Strict")
        assert values["CSRF_COOKIE_SAMESITE"] in ("Lax", "Strict")
        assert values["SECURE_CONTENT_TYPE_NOSNIFF"] is True
        assert values["X_FRAME_OPTIONS"] == "DENY"
        assert values["SECURE_REFERRER_POLICY"] == "same-origin"
        assert values["SECURE_CROSS_ORIGIN_OPENER_POLICY"] == "same-origin"

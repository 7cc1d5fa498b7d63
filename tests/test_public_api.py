"""
The documented public API: an OpenAPI 3.1 document at a stable address, and
live answers that match it (bodies, status codes and the CORS, caching and
rate-limit headers it promises); the exports take the list page's filters.
"""

from __future__ import annotations

import csv
import io
import json
import re
from typing import Any

from django.test import TestCase, override_settings
from django.urls import reverse
from django.utils import timezone
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from signatures import services
from signatures.models import Letter, Signature
from tests.factories import make_letter, make_signature, sign_data
from tests.pages import public_pages, seed_demo_letter

State = Signature.State
DOCUMENT_URI = "urn:undersigned:openapi"


def body_of(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def pointer(*parts: str) -> str:
    return "".join("/" + part.replace("~", "~0").replace("/", "~1") for part in parts)


class PublicApiTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.letter = make_letter(goal=100, status=Letter.Status.CLOSED)
        director, composer = cls.letter.professions.all()
        cls.director, cls.composer = director, composer
        make_signature(cls.letter, State.APPROVED, full_name="María López", profession=director, is_notable=True)
        make_signature(cls.letter, State.APPROVED, full_name="Ben Director", profession=director)
        make_signature(cls.letter, State.APPROVED, full_name="Cleo Composer", profession=composer)
        make_signature(cls.letter, State.APPROVED, full_name="Dan Composer", profession=composer)
        make_signature(cls.letter, State.APPROVED, full_name="Quiet Unlisted", wants_listing=False)
        services.record_letter_delivery(letter=cls.letter, delivered_at=timezone.now(), delivered_how="By hand")

    def setUp(self):
        response = self.client.get("/api/openapi.json")
        assert response.status_code == 200
        self.document = json.loads(response.content)
        self.registry = Registry().with_resource(
            DOCUMENT_URI, Resource(contents=self.document, specification=DRAFT202012)
        )

    def validate(self, schema_pointer: str, instance: Any) -> None:
        validator = Draft202012Validator(
            {"$ref": f"{DOCUMENT_URI}#{schema_pointer}"}, registry=self.registry, format_checker=FormatChecker()
        )
        errors = [error.message for error in validator.iter_errors(instance)]
        assert not errors, errors

    def assert_matches_document(self, path: str, response) -> bytes:
        """The response is one the document describes for this path: status, content type, headers, body."""
        operation = self.document["paths"][path]["get"]
        status = str(response.status_code)
        assert status in operation["responses"], f"{path} answered {status}, not documented"
        documented = operation["responses"][status]
        base = pointer("paths", path, "get", "responses", status)
        if "$ref" in documented:
            base = documented["$ref"].removeprefix("#")
            documented = follow(self.document, base)
        content_type = response["Content-Type"]
        assert content_type in documented["content"], f"{path}: {content_type} not documented"
        body = body_of(response)
        if content_type == "application/json":
            self.validate(base + pointer("content", content_type, "schema"), json.loads(body))
        for name, header in documented.get("headers", {}).items():
            header_pointer = base + pointer("headers", name)
            if "$ref" in header:
                header_pointer = header["$ref"].removeprefix("#")
            assert response.has_header(name), f"{path}: header {name} missing"
            self.validate(header_pointer + "/schema", response[name])
        return body

    def url(self, path: str) -> str:
        return path.replace("{slug}", self.letter.slug)

    def test_the_document_is_openapi_3_1_and_served_to_any_site(self):
        response = self.client.get("/api/openapi.json")
        assert response["Content-Type"] == "application/json"
        assert self.document["openapi"].startswith("3.1.")
        assert response["Access-Control-Allow-Origin"] == "*"
        assert reverse("signatures:openapi") == "/api/openapi.json"

    def test_every_documented_path_answers_as_documented(self):
        for path in self.document["paths"]:
            response = self.client.get(self.url(path))
            assert response.status_code == 200, path
            self.assert_matches_document(path, response)

    def test_an_unknown_letter_answers_the_documented_404(self):
        for path in self.document["paths"]:
            if "{slug}" in path:
                response = self.client.get(path.replace("{slug}", "no-such-letter"))
                assert response.status_code == 404, path
                self.assert_matches_document(path, response)

    @override_settings(SIGNATURES_LIMIT_LIST_PAGES_PER_IP="1/60")
    def test_past_the_budget_the_exports_answer_the_documented_429(self):
        path = "/letters/{slug}/signatories.json"
        assert self.client.get(self.url(path)).status_code == 200
        response = self.client.get(self.url(path))
        assert response.status_code == 429
        self.assert_matches_document(path, response)
        assert int(response["Retry-After"]) > 0

    def test_only_public_gets_say_any_site_may_read_them(self):
        count_url = self.url("/letters/{slug}/count.json")
        assert self.client.get(count_url)["Access-Control-Allow-Origin"] == "*"
        refused = self.client.post(count_url)
        assert refused.status_code == 405
        assert not refused.has_header("Access-Control-Allow-Origin")
        sign = self.client.post(reverse("signatures:sign", kwargs={"slug": self.letter.slug}), sign_data(self.letter))
        assert not sign.has_header("Access-Control-Allow-Origin")

    def names_in_json(self, **params: str) -> list[str]:
        response = self.client.get(self.url("/letters/{slug}/signatories.json"), params)
        body = self.assert_matches_document("/letters/{slug}/signatories.json", response)
        return [row["name"] for row in json.loads(body)["signatories"]]

    def names_in_csv(self, **params: str) -> list[str]:
        response = self.client.get(self.url("/letters/{slug}/signatories.csv"), params)
        rows = list(csv.reader(io.StringIO(body_of(response).decode().removeprefix("\ufeff"))))
        return [row[0] for row in rows[1:]]

    def names_on_the_page(self, **params: str) -> list[str]:
        html = self.client.get(reverse("signatures:signatories", kwargs={"slug": self.letter.slug}), params)
        return re.findall(r'<span class="signatory-name">([^<]+)</span>', html.content.decode())

    def test_the_name_search_works_as_on_the_list_page(self):
        assert self.names_in_json(q="lopez") == ["María López"]
        assert self.names_in_csv(q="lopez") == ["María López"]

    def test_the_profession_filter_works_as_on_the_list_page(self):
        composers = {"Cleo Composer", "Dan Composer"}
        assert set(self.names_in_json(profession=str(self.composer.pk))) == composers
        assert set(self.names_in_csv(profession=str(self.composer.pk))) == composers
        # An unknown profession is ignored, as on the page.
        assert len(self.names_in_json(profession="nonsense")) == 4

    @override_settings(SIGNATURES_PAGE_SIZE=2)
    def test_a_cursor_from_the_list_page_gives_the_rows_after_it(self):
        html = self.client.get(reverse("signatures:signatories", kwargs={"slug": self.letter.slug})).content.decode()
        after = re.search(r"after=([A-Za-z0-9_-]+)", html).group(1)
        later = self.names_on_the_page(after=after)
        assert self.names_in_json(after=after) == later
        assert self.names_in_csv(after=after) == later
        first_page = self.names_on_the_page()
        assert not set(first_page) & set(self.names_in_json(after=after))

    def test_no_filter_still_exports_everyone_listed(self):
        assert len(self.names_in_json()) == 4


class NoEmailInPublicOutputTests(TestCase):
    """The promise that an email address is never shown publicly, over every page and every API answer."""

    @classmethod
    def setUpTestData(cls):
        cls.letter = seed_demo_letter()
        services.record_letter_delivery(letter=cls.letter, delivered_at=timezone.now(), delivered_how="By hand")

    def test_no_public_page_or_api_answer_shows_an_email_address(self):
        document = json.loads(self.client.get("/api/openapi.json").content)
        paths = [page.path for page in public_pages(self.letter) if page.method == "get"]
        paths += [path.replace("{slug}", self.letter.slug) for path in document["paths"]]
        for path in paths:
            body = body_of(self.client.get(path)).decode()
            assert re.search(r"[\w.+-]+@[\w-]+\.[\w.]+", body) is None, path


def follow(document: dict[str, Any], json_pointer: str) -> Any:
    node: Any = document
    for part in json_pointer.lstrip("/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node

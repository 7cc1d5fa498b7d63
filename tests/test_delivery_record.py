"""
A delivery record anyone can check: when organizers record a delivery, the
exact list delivered is frozen as CSV with the letter and its SHA-256 is
published beside the text's hash; the file downloads byte for byte, a later
withdrawal leaves it alone, and the addressee's PDF prints it.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from datetime import timedelta

from django.test import TestCase
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from signatures import delivery, services
from signatures.models import Letter, Signature
from signatures.tokens import Purpose, make_token
from tests.factories import make_letter, make_signature, make_staff
from tests.letter_admin import save_letter

State = Signature.State


def csv_rows(response) -> list[list[str]]:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return list(csv.reader(io.StringIO(content.decode("utf-8").removeprefix("\ufeff"))))


def pdf_text(content: bytes) -> str:
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


class FrozenDeliveredListTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.letter = make_letter(status=Letter.Status.CLOSED)
        cls.version = services.ensure_letter_version(letter=cls.letter)
        director, composer = cls.letter.professions.all()
        cls.ada = make_signature(
            cls.letter, State.APPROVED, full_name="Ada Director", profession=director, affiliation="Studio A"
        )
        make_signature(cls.letter, State.APPROVED, full_name="Ben Director", profession=director, email="ben@ex.org")
        make_signature(cls.letter, State.APPROVED, full_name="Cleo Composer", profession=composer)
        make_signature(cls.letter, State.APPROVED, full_name="Dev", profession=None, title="Luthier")
        make_signature(cls.letter, State.APPROVED, full_name="Quiet Unlisted", wants_listing=False)
        make_signature(cls.letter, State.CONFIRMED, full_name="Waiting Moderation")
        services.record_letter_delivery(letter=cls.letter, delivered_at=timezone.now(), delivered_how="By hand")
        cls.transparency_url = reverse("signatures:transparency", kwargs={"slug": cls.letter.slug})
        cls.csv_url = reverse("signatures:delivered_list_csv", kwargs={"slug": cls.letter.slug})

    def published_hash(self) -> str:
        html = self.client.get(self.transparency_url).content.decode()
        return re.search(r'id="delivered-list-hash">([0-9a-f]{64})<', html).group(1)

    def test_the_hash_shown_is_the_sha256_of_the_downloaded_csv(self):
        html = self.client.get(self.transparency_url).content.decode()
        assert self.csv_url in html  # the download link sits beside the hash
        download = self.client.get(self.csv_url)
        assert download.status_code == 200
        assert download["Content-Type"] == "text/csv; charset=utf-8"
        assert hashlib.sha256(download.content).hexdigest() == self.published_hash()

    def test_the_text_version_hash_is_published_beside_it(self):
        html = self.client.get(self.transparency_url).content.decode()
        assert self.version.content_hash in html
        assert html.index(self.version.content_hash) < html.index(self.published_hash())

    def test_the_list_holds_the_listed_names_in_the_order_printed(self):
        rows = csv_rows(self.client.get(self.csv_url))
        assert rows == [
            ["name", "profession", "title", "affiliation"],
            ["Ada Director", "Director", "", "Studio A"],
            ["Ben Director", "Director", "", ""],
            ["Cleo Composer", "Composer", "", ""],
            ["Dev", "", "Luthier", ""],
        ]
        assert b"@" not in self.client.get(self.csv_url).content  # never an email address

    def test_a_withdrawal_after_delivery_does_not_change_the_frozen_list(self):
        before = self.client.get(self.csv_url).content
        services.withdraw_signature(token=make_token(self.ada, Purpose.WITHDRAW))
        later = make_signature(self.letter, State.APPROVED, full_name="Eve Latecomer")
        Signature.objects.filter(pk=later.pk).update(approved_at=timezone.now() + timedelta(minutes=5))

        assert self.client.get(self.csv_url).content == before
        assert hashlib.sha256(before).hexdigest() == self.published_hash()
        today = [row[0] for row in csv_rows(self.client.get(self.todays_url()))]
        assert "Ada Director" not in today
        assert "Eve Latecomer" in today

    def todays_url(self) -> str:
        return reverse("signatures:todays_list_csv", kwargs={"slug": self.letter.slug})

    def test_the_transparency_page_links_to_todays_list_for_comparison(self):
        html = self.client.get(self.transparency_url).content.decode()
        assert self.todays_url() in html
        assert "Compare with today" in html

    def test_other_sites_may_fetch_the_list_and_caches_may_keep_it(self):
        download = self.client.get(self.csv_url)
        assert download["Access-Control-Allow-Origin"] == "*"
        assert "public" in download["Cache-Control"]
        assert download["ETag"] == f'"{self.published_hash()}"'

    def test_unrecording_the_delivery_withdraws_the_list(self):
        services.record_letter_delivery(letter=self.letter, delivered_at=None, delivered_how="")
        assert self.client.get(self.csv_url).status_code == 404
        assert "delivered-list-hash" not in self.client.get(self.transparency_url).content.decode()


class FreezingInTheAdminTests(TestCase):
    def test_recording_a_delivery_in_the_admin_freezes_the_list(self):
        letter = make_letter()
        make_signature(letter, State.APPROVED, full_name="Listed Person")
        self.client.force_login(make_staff())
        delivered_at = timezone.localtime() + timedelta(minutes=1)  # after the approval
        response = save_letter(
            self.client,
            letter.pk,
            delivered_at_0=delivered_at.date().isoformat(),
            delivered_at_1=delivered_at.strftime("%H:%M:%S"),
            delivered_how="By post",
        )
        assert response.status_code == 302
        download = self.client.get(reverse("signatures:delivered_list_csv", kwargs={"slug": letter.slug}))
        assert "Listed Person" in download.content.decode()
        html = self.client.get(reverse("signatures:transparency", kwargs={"slug": letter.slug})).content.decode()
        assert hashlib.sha256(download.content).hexdigest() in html

    def test_an_undelivered_letter_has_no_list_to_download(self):
        letter = make_letter()
        make_signature(letter, State.APPROVED)
        url = reverse("signatures:delivered_list_csv", kwargs={"slug": letter.slug})
        assert self.client.get(url).status_code == 404


class DeliveryPdfTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.letter = make_letter(title="Protect our work")
        cls.version = services.ensure_letter_version(letter=cls.letter)
        director, composer = cls.letter.professions.all()
        cls.ada = make_signature(cls.letter, State.APPROVED, full_name="Ada Director", profession=director)
        make_signature(cls.letter, State.APPROVED, full_name="Cleo Composer", profession=composer)
        make_signature(cls.letter, State.APPROVED, full_name="Quiet Unlisted", wants_listing=False)
        cls.url = reverse("signatures:delivery_pdf", kwargs={"slug": cls.letter.slug})

    def test_before_delivery_only_staff_get_the_pdf(self):
        assert self.client.get(self.url).status_code == 404
        self.client.force_login(make_staff())
        response = self.client.get(self.url)
        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"

    def deliver(self) -> None:
        # The worker draws the PDF once the delivery commits (the immediate backend runs it then).
        with self.captureOnCommitCallbacks(execute=True):
            services.record_letter_delivery(letter=self.letter, delivered_at=timezone.now(), delivered_how="By hand")
        self.letter.refresh_from_db()

    def test_the_delivered_pdf_holds_the_letter_the_names_and_the_hashes(self):
        self.deliver()
        response = self.client.get(self.url)
        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"
        text = pdf_text(response.content)
        for expected in ("Protect our work", "Ada Director", "Cleo Composer", "Director (1)", "Composer (1)"):
            assert expected in text
        assert "Quiet Unlisted" not in text
        flat = re.sub(r"\s", "", text)
        assert self.letter.delivered_list_sha256 in flat
        assert self.version.content_hash in flat

    def test_the_pdf_prints_what_was_delivered_after_a_withdrawal(self):
        self.deliver()
        services.withdraw_signature(token=make_token(self.ada, Purpose.WITHDRAW))
        assert "Ada Director" in pdf_text(self.client.get(self.url).content)

    def test_the_delivered_pdf_is_drawn_once_and_served_as_kept(self):
        self.deliver()
        response = self.client.get(self.url)
        assert response.content == bytes(Letter.objects.defer(None).get(pk=self.letter.pk).delivered_pdf)
        assert "public" in response["Cache-Control"]

    def test_until_the_worker_has_drawn_it_the_pdf_asks_to_come_back(self):
        services.record_letter_delivery(letter=self.letter, delivered_at=timezone.now(), delivered_how="By hand")
        response = self.client.get(self.url)
        assert response.status_code == 503
        assert int(response["Retry-After"]) > 0
        assert "being prepared" in response.content.decode()

    def test_a_pdf_drawn_for_a_list_since_replaced_is_not_kept(self):
        services.record_letter_delivery(letter=self.letter, delivered_at=timezone.now(), delivered_how="By hand")
        assert not delivery.draw_delivery_pdf.call(self.letter.pk, "0" * 64)
        assert self.client.get(self.url).status_code == 503


class DeliveryDocumentHashTests(TestCase):
    def test_the_delivery_document_shows_the_list_hash_and_links_the_files(self):
        letter = make_letter()
        make_signature(letter, State.APPROVED, full_name="Listed Person")
        services.record_letter_delivery(letter=letter, delivered_at=timezone.now(), delivered_how="By hand")
        letter = Letter.objects.defer(None).get(pk=letter.pk)
        html = self.client.get(reverse("signatures:delivery", kwargs={"slug": letter.slug})).content.decode()
        assert letter.delivered_list_sha256 in html
        assert reverse("signatures:delivered_list_csv", kwargs={"slug": letter.slug}) in html
        assert reverse("signatures:delivery_pdf", kwargs={"slug": letter.slug}) in html

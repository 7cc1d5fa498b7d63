"""
The delivered list, frozen: when organizers record a delivery, the exact list
of names handed to the addressee is kept as CSV with the letter, and its
SHA-256 is published. Anyone can download the file, hash it and compare; a
signer who withdraws later leaves the live list, never the frozen one.

Also the PDF of the letter and its signatories for the addressee: drawn
once by the worker after the delivery is recorded (minutes of CPU and
gigabytes of memory for 100,000 names, see bench/RESULTS.md), then served
as stored, so a public link cannot make the site draw it again and again.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import groupby

from django.db import transaction
from django.db.models import F, QuerySet
from django.template.loader import render_to_string
from django.utils import timezone
from django_tasks import task

from signatures.csv_export import stream_csv
from signatures.models import Letter, Signature, SignatureCounter

# The columns of the frozen list: what the document prints for each name.
DELIVERED_CSV_HEADER = ("name", "profession", "title", "affiliation")
# As printed: by profession in the organizers' order, then by name.
PRINTED_ORDER = (F("profession__position").asc(nulls_last=True), "profession__name", "name_key", "pk")


def printed_signatories(letter: Letter) -> QuerySet[Signature]:
    """Listed signatories in the order the delivery document prints them (up to delivery, once delivered)."""
    rows = Signature.objects.listed().filter(letter=letter).select_related("profession").order_by(*PRINTED_ORDER)
    if letter.delivered_at is not None:
        rows = rows.filter(approved_at__lte=letter.delivered_at)
    return rows


def todays_signatories(letter: Letter) -> QuerySet[Signature]:
    """Everyone listed now, in the printed order: what to compare the frozen list with."""
    return Signature.objects.listed().filter(letter=letter).select_related("profession").order_by(*PRINTED_ORDER)


def list_csv_lines(signatures: QuerySet[Signature]) -> Iterator[str]:
    """The lines of a list in the frozen format, formula-safe like every export, read in chunks."""
    rows = (
        (name, profession or "", title, affiliation)
        for name, profession, title, affiliation in signatures.values_list(
            "full_name", "profession__name", "title", "affiliation"
        ).iterator(chunk_size=5000)
    )
    return stream_csv(DELIVERED_CSV_HEADER, rows)


def list_csv(signatures: QuerySet[Signature]) -> str:
    return "".join(list_csv_lines(signatures))


def sha256_of(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@task()
def draw_delivery_pdf(letter_id: int, list_sha256: str) -> bool:
    """Once, after a delivery is recorded (run by the worker): the addressee's PDF, kept with the letter."""
    return store_delivery_pdf(letter_id=letter_id, list_sha256=list_sha256)


def store_delivery_pdf(*, letter_id: int, list_sha256: str) -> bool:
    """
    Draw and keep the delivered letter's PDF; False if the delivery changed
    meanwhile (re-recorded or unrecorded), whose own job draws its own PDF.
    """
    letter = Letter.objects.defer(None).filter(pk=letter_id, delivered_list_sha256=list_sha256).first()
    if letter is None:
        return False
    pdf = delivery_pdf(letter=letter)
    # The drawing takes minutes and holds no lock; the update only lands if the list is still the one drawn.
    with transaction.atomic():
        return bool(Letter.objects.filter(pk=letter_id, delivered_list_sha256=list_sha256).update(delivered_pdf=pdf))


@dataclass(frozen=True)
class PrintedName:
    name: str
    profession: str
    title: str
    affiliation: str


@dataclass(frozen=True)
class ProfessionGroup:
    profession: str
    names: list[PrintedName]


def _frozen_rows(text: str) -> Iterator[PrintedName]:
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff")))
    next(reader, None)  # the header
    for name, profession, title, affiliation in reader:
        yield PrintedName(name, profession, title, affiliation)


def _live_rows(letter: Letter) -> Iterator[PrintedName]:
    rows = printed_signatories(letter).values_list("full_name", "profession__name", "title", "affiliation")
    for name, profession, title, affiliation in rows.iterator(chunk_size=5000):
        yield PrintedName(name, profession or "", title, affiliation)


def printed_groups(letter: Letter) -> list[ProfessionGroup]:
    """The names by profession: from the frozen list once delivered, so the PDF is exactly what was delivered."""
    rows = _frozen_rows(letter.delivered_list_csv) if letter.delivered_list_sha256 else _live_rows(letter)
    by_profession = groupby(rows, key=lambda row: row.profession)
    return [ProfessionGroup(profession, list(names)) for profession, names in by_profession]


def delivery_pdf(*, letter: Letter) -> bytes:
    """The letter, its signatories by profession, the counts, date, text version and list hash, as a PDF."""
    groups = printed_groups(letter)
    delivered = letter.delivered_at is not None
    context = {
        "letter": letter,
        "groups": groups,
        "listed_count": sum(len(group.names) for group in groups),
        "count": letter.delivered_count if delivered else SignatureCounter.value_for(letter, SignatureCounter.PUBLIC),
        "version": letter.delivered_version or letter.current_version,
        "list_hash": letter.delivered_list_sha256,
        "printed_at": letter.delivered_at or timezone.now(),
    }
    html = render_to_string("signatures/transparency/delivery_pdf.html", context)
    # Imported here on purpose: WeasyPrint takes most of a second to load (Pango,
    # its default style sheets), and only this rare request needs it; every web
    # process and management command would pay for it at start otherwise.
    import weasyprint  # noqa: PLC0415

    return weasyprint.HTML(string=html).write_pdf()

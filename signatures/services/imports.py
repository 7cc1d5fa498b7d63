"""
Imports: signatures gathered before the site (by agents, guilds, unions, over
email and spreadsheets) brought in by the organizers.

The file is read and every row checked first (`check_rows`), with nothing
written, so the organizer sees per-row errors and duplicates before deciding.
The rows that passed are kept on an `ImportRun`; a background task
(`import_signatures`, run by the worker) writes them in batches of
`BATCH_SIZE`, one transaction each, so no transaction is long and a worker
that dies resumes after the last committed batch.

How consent is obtained is the organizer's choice per import:
- *invite*: each person is emailed a link to confirm and choose whether to be
  listed; nothing counts or shows until they do;
- *attested*: the organizers hold the consent (a signed form, an agent's
  email) and record a note saying so; the signatures are marked as added by
  organizers and counted apart on the public ledger.
Either way every name goes through the watchlist and moderation.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import openpyxl
from django import forms
from django.conf import settings
from django.contrib.auth.models import User
from django.core.validators import EmailValidator
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import task

from signatures import emails
from signatures.abuse.impersonation import watchlist_match
from signatures.abuse.limits import domain_and_parents
from signatures.forms import URL_LIKE, clean_answer, clean_line
from signatures.models import (
    BlockedAddress,
    BlockedDomain,
    CustomQuestion,
    ImportRun,
    Letter,
    Profession,
    Signature,
    WatchlistEntry,
)
from signatures.services import counting
from signatures.services.letters import ensure_letter_version
from signatures.text import has_control_characters, name_key, normalize_email

State = Signature.State
Consent = ImportRun.Consent

BATCH_SIZE = 500
MAX_ROWS = 50_000
LOOKUP_CHUNK = 500
MAX_ERRORS_KEPT = 2000  # shown at the preview; the counts cover them all

# Our fields, and the headers people give them in the spreadsheets they send us
# (compared as name keys: lowercase, accents and punctuation folded).
FIELDS: dict[str, str] = {
    "full_name": "Full name",
    "email": "Email",
    "profession": "Profession",
    "title": "Title or role",
    "affiliation": "Affiliation",
    "city": "City",
    "country": "Country",
    "comment": "Comment",
}
HEADER_GUESSES: dict[str, tuple[str, ...]] = {
    "full_name": ("full name", "name", "signatory", "signer", "nom", "nombre", "nome", "name und vorname"),
    "email": ("email", "e mail", "mail", "email address", "courriel", "correo", "adresse email"),
    "profession": ("profession", "occupation", "job", "metier", "profesion", "beruf", "trade", "craft"),
    "title": ("title", "role", "title or role", "position", "credit", "fonction"),
    "affiliation": ("affiliation", "organisation", "organization", "company", "studio", "union", "guild"),
    "city": ("city", "town", "ville", "ciudad", "stadt"),
    "country": ("country", "pays", "pais", "land", "nation"),
    "comment": ("comment", "comments", "note", "message", "why"),
}
REQUIRED_FIELDS = ("full_name", "email")


class ImportFileError(Exception):
    """The file cannot be read as a table (too big, not CSV or XLSX, no header)."""


class AlreadySigned(Exception):
    """This address has signed this letter already."""


@dataclass
class Table:
    headers: list[str]
    rows: list[list[str]]


@dataclass
class RowError:
    line: int  # as a spreadsheet numbers it: the header is line 1
    name: str
    messages: list[str]


@dataclass
class Preview:
    total_rows: int
    rows: list[dict[str, Any]] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    duplicates_in_file: int = 0
    duplicates_on_letter: int = 0
    unknown_professions: Counter[str] = field(default_factory=Counter)
    watchlist_matches: int = 0


def question_field(question: CustomQuestion) -> str:
    return f"question:{question.pk}"


def mappable_fields(letter: Letter) -> dict[str, str]:
    """{field key: label}: our fields, then the letter's custom questions."""
    found = dict(FIELDS)
    for question in letter.custom_questions.all():
        found[question_field(question)] = question.label
    return found


# --- reading the file ----------------------------------------------------------


def cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a member number typed into a spreadsheet
    return str(value)


def read_table(*, data: bytes, filename: str) -> Table:
    """The file's header and rows as text. XLSX formulas come back as their last value, never as formulas."""
    limit = settings.SIGNATURES_IMPORT_MAX_BYTES
    if len(data) > limit:
        raise ImportFileError(_("The file is larger than %(mb)d MB.") % {"mb": limit // (1024 * 1024)})
    rows = read_xlsx(data) if filename.lower().endswith(".xlsx") else read_csv(data)
    rows = [row for row in rows if any(cell.strip() for cell in row)]
    if not rows:
        raise ImportFileError(_("The file has no rows."))
    if len(rows) - 1 > MAX_ROWS:
        raise ImportFileError(_("The file has more than %(rows)d rows; split it.") % {"rows": MAX_ROWS})
    headers = [cell.strip() for cell in rows[0]]
    return Table(headers=headers, rows=rows[1:])


def read_csv(data: bytes) -> list[list[str]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Spreadsheet programs on Windows still save "CSV" in their code page.
        text = data.decode("cp1252", errors="replace")
    # The delimiter is the one the header row uses most; quoting is the
    # spreadsheet programs' (the sniffer misreads rows of quoted quotes).
    header = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=header.count)
    return [list(row) for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)]


def read_xlsx(data: bytes) -> list[list[str]]:
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a file that is not a workbook
        raise ImportFileError(_("This is not an Excel (.xlsx) file.")) from exc
    try:
        sheet = workbook.worksheets[0]
        return [[cell_text(value) for value in row] for row in sheet.iter_rows(values_only=True)]
    finally:
        workbook.close()


def header_key(header: str) -> str:
    """A header as compared: lowercase, no accents, punctuation as spaces ("E-mail" is "e mail")."""
    return " ".join(re.sub(r"[\W_]+", " ", name_key(header)).split())


def guess_mapping(*, headers: Sequence[str], letter: Letter) -> dict[str, int]:
    """{field key: column index} from the headers: our usual names for each field, and the questions' labels."""
    keys = [header_key(header) for header in headers]
    guesses = {key: tuple(header_key(g) for g in names) for key, names in HEADER_GUESSES.items()}
    for question in letter.custom_questions.all():
        guesses[question_field(question)] = (header_key(question.label),)
    mapping: dict[str, int] = {}
    for field_key, names in guesses.items():
        for index, header in enumerate(keys):
            if header in names and index not in mapping.values():
                mapping[field_key] = index
                break
    return mapping


# --- checking the rows (nothing written) -----------------------------------------


@dataclass
class Lookups:
    """What every row is checked against, read once per file rather than once per row."""

    professions: dict[str, Profession]
    questions: dict[str, CustomQuestion]
    blocked_addresses: set[str]
    blocked_domains: set[str]

    @classmethod
    def for_letter(cls, letter: Letter) -> Lookups:
        return cls(
            professions={name_key(p.name): p for p in letter.professions.all()},
            questions={question_field(q): q for q in letter.custom_questions.all()},
            blocked_addresses=set(BlockedAddress.objects.values_list("email_normalized", flat=True)),
            blocked_domains=set(BlockedDomain.objects.values_list("domain", flat=True)),
        )

    def is_blocked(self, email_normalized: str) -> bool:
        domains = domain_and_parents(email_normalized.rpartition("@")[2])
        return email_normalized in self.blocked_addresses or not self.blocked_domains.isdisjoint(domains)


def check_rows(*, letter: Letter, table: Table, mapping: dict[str, int]) -> Preview:
    """Every row checked as the sign form would check it, and against the letter; writes nothing."""
    lookups = Lookups.for_letter(letter)
    watchlist = watchlist_entries()
    preview = Preview(total_rows=len(table.rows))
    candidates: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for number, cells in enumerate(table.rows, start=2):
        row, messages = check_row(cells, mapping, lookups, preview)
        email_key = row.get("email_normalized")
        if email_key:
            if email_key in seen:
                messages.append(_("Same email address as line %(line)d.") % {"line": seen[email_key]})
                preview.duplicates_in_file += 1
            else:
                seen[email_key] = number
        row["line"] = number
        if messages:
            preview.errors.append(RowError(line=number, name=row.get("full_name", "")[:120], messages=messages))
        else:
            candidates.append(row)
    signed = already_signed(letter, [row["email_normalized"] for row in candidates])
    for row in candidates:
        if row["email_normalized"] in signed:
            preview.duplicates_on_letter += 1
            preview.errors.append(
                RowError(line=row["line"], name=row["full_name"], messages=[_("Has already signed this letter.")])
            )
            continue
        if is_watchlisted(row["full_name"], watchlist):
            preview.watchlist_matches += 1
        preview.rows.append(row)
    preview.errors.sort(key=lambda error: error.line)
    return preview


def check_row(
    cells: list[str], mapping: dict[str, int], lookups: Lookups, preview: Preview
) -> tuple[dict[str, Any], list[str]]:
    def cell(key: str) -> str:
        index = mapping.get(key)
        return cells[index] if index is not None and index < len(cells) else ""

    row: dict[str, Any] = {"answers": {}, "profession_id": None}
    messages: list[str] = []
    for key, label in FIELDS.items():
        if key not in ("email", "profession"):
            row[key] = check_text(key, label, cell(key), messages)
    if not row["full_name"]:
        messages.append(_("No name."))
    elif URL_LIKE.search(row["full_name"]):
        messages.append(_("A name cannot contain a web address."))
    check_email(cell("email"), row, messages, lookups)
    profession_name = " ".join(cell("profession").split())
    if profession_name:
        profession = lookups.professions.get(name_key(profession_name))
        if profession is None:
            preview.unknown_professions[profession_name[:100]] += 1
            messages.append(_("Unknown profession “%(name)s”.") % {"name": profession_name[:100]})
        else:
            row["profession_id"] = profession.pk
    for key, question in lookups.questions.items():
        try:
            value = clean_answer(question, cell(key))
        except forms.ValidationError as error:
            messages.append(f"{question.label}: {' '.join(error.messages)}")
            continue
        if value not in ("", False, None):
            row["answers"][question.key] = value
    return row, messages


def check_text(key: str, label: str, raw: str, messages: list[str]) -> str:
    """One text field as the sign form cleans it; problems are added to `messages`."""
    limit: int = Signature._meta.get_field(key).max_length  # type: ignore[union-attr,assignment]
    raw = unicodedata.normalize("NFC", raw)
    if key == "comment":
        value = raw.replace("\r\n", "\n").strip()
        bad = has_control_characters(value.replace("\n", " ").replace("\t", " "))
    else:
        try:
            value, bad = clean_line(raw, field_label=label), False
        except forms.ValidationError:
            value, bad = raw.strip(), True
    if bad:
        messages.append(_("%(field)s contains invisible or control characters.") % {"field": label})
    if len(value) > limit:
        messages.append(
            _("%(field)s is too long (%(length)d characters, at most %(limit)d).")
            % {"field": label, "length": len(value), "limit": limit}
        )
        value = value[:limit]
    return value


def check_email(raw: str, row: dict[str, Any], messages: list[str], lookups: Lookups) -> None:
    email = unicodedata.normalize("NFC", raw).strip()
    try:
        if not email or has_control_characters(email) or len(email) > 254:
            raise forms.ValidationError("invalid")
        EmailValidator()(email)
    except forms.ValidationError:
        messages.append(_("Not a valid email address.") if email else _("No email address."))
        return
    row["email"] = email
    row["email_normalized"] = normalize_email(email)
    if lookups.is_blocked(row["email_normalized"]):
        messages.append(_("This address or its domain is on the blocklist."))


def already_signed(letter: Letter, emails_normalized: Iterable[str]) -> set[str]:
    """Which of these addresses have a signature on the letter now (withdrawn ones are erased)."""
    found: set[str] = set()
    addresses = list(emails_normalized)
    for start in range(0, len(addresses), LOOKUP_CHUNK):
        found.update(
            Signature.objects.filter(letter=letter, email_normalized__in=addresses[start : start + LOOKUP_CHUNK])
            .exclude(state=State.WITHDRAWN)
            .values_list("email_normalized", flat=True)
        )
    return found


def watchlist_entries() -> list[tuple[int, str, list[str]]]:
    return [(e.pk, e.name, e.alias_list()) for e in WatchlistEntry.objects.all()]


def is_watchlisted(name: str, entries: list[tuple[int, str, list[str]]]) -> bool:
    return bool(entries) and watchlist_match(name, entries) is not None


# --- creating and running an import ----------------------------------------------


@transaction.atomic
def create_import(
    *,
    letter: Letter,
    filename: str,
    table: Table,
    consent: str,
    consent_note: str = "",
    wants_listing: bool = False,
    created_by: User | None = None,
) -> ImportRun:
    """A new import of a file that was read, with the columns guessed from its headers (nothing checked yet)."""
    if consent == Consent.ATTESTED and not consent_note.strip():
        raise ValueError("An attested import needs a note saying where the consent is recorded.")
    return ImportRun.objects.create(
        letter=letter,
        filename=filename[:255],
        table={"headers": table.headers, "rows": table.rows},
        mapping=guess_mapping(headers=table.headers, letter=letter),
        consent=consent,
        consent_note=consent_note.strip(),
        wants_listing=wants_listing and consent == Consent.ATTESTED,
        total_rows=len(table.rows),
        created_by=created_by,
    )


@transaction.atomic
def preview_import(*, run: ImportRun, mapping: dict[str, int]) -> Preview:
    """Check the file's rows with this mapping and keep the result on the run; no signature is written."""
    run = ImportRun.objects.select_for_update().select_related("letter").get(pk=run.pk)
    if run.status != ImportRun.Status.PREVIEW:
        raise ValueError("This import has started; its rows can no longer change.")
    table = Table(headers=run.table.get("headers", []), rows=run.table.get("rows", []))
    preview = check_rows(letter=run.letter, table=table, mapping=mapping)
    run.mapping = mapping
    run.pending_rows = preview.rows
    run.valid_rows = len(preview.rows)
    run.error_rows = len(preview.errors)
    run.is_previewed = True
    run.report = {
        "duplicates_in_file": preview.duplicates_in_file,
        "duplicates_on_letter": preview.duplicates_on_letter,
        "unknown_professions": dict(preview.unknown_professions.most_common()),
        "watchlist_matches": preview.watchlist_matches,
        "errors": [[e.line, e.name, e.messages] for e in preview.errors[:MAX_ERRORS_KEPT]],
    }
    run.save()
    return preview


@transaction.atomic
def start_import(*, run: ImportRun) -> bool:
    """Queue a previewed import for the worker, once; False if it was started already."""
    started = ImportRun.objects.filter(pk=run.pk, status=ImportRun.Status.PREVIEW, is_previewed=True).update(
        status=ImportRun.Status.QUEUED
    )
    if started:
        run_id = run.pk
        transaction.on_commit(lambda: import_signatures.enqueue(run_id))
    return bool(started)


@task()
def import_signatures(run_id: int) -> int:
    """The background job of one import (enqueued by `start_import`)."""
    return run_import(run_id=run_id)


def run_import(*, run_id: int) -> int:
    """
    Write an import's rows, a batch per transaction; return how many were added.
    Resumable: each batch commits with the run's progress, so a restart skips
    what is written.
    """
    claimed = ImportRun.objects.filter(
        pk=run_id, status__in=[ImportRun.Status.QUEUED, ImportRun.Status.RUNNING]
    ).update(status=ImportRun.Status.RUNNING, started_at=timezone.now())
    if not claimed:
        return 0
    run = ImportRun.objects.select_related("letter").get(pk=run_id)
    watchlist = watchlist_entries()
    rows = run.pending_rows
    try:
        for start in range(run.processed_rows, len(rows), BATCH_SIZE):
            import_batch(run=run, rows=rows[start : start + BATCH_SIZE], watchlist=watchlist)
    except Exception as exc:
        ImportRun.objects.filter(pk=run_id).update(
            status=ImportRun.Status.FAILED, last_error=f"{type(exc).__name__}: {exc}"[:1000]
        )
        raise
    ImportRun.objects.filter(pk=run_id).update(
        status=ImportRun.Status.DONE, finished_at=timezone.now(), pending_rows=[], table={}
    )
    run.refresh_from_db()
    return run.imported_count


@transaction.atomic
def import_batch(*, run: ImportRun, rows: list[dict[str, Any]], watchlist: list[tuple[int, str, list[str]]]) -> None:
    """One batch: the new signatures, their counters, their emails and the run's progress, together."""
    letter = run.letter
    version = ensure_letter_version(letter=letter)
    # Someone may have signed through the site since the preview.
    signed = already_signed(letter, [row["email_normalized"] for row in rows])
    fresh = [row for row in rows if row["email_normalized"] not in signed]
    signatures = [
        build_signature(
            letter=letter,
            row=row,
            consent=run.consent,
            consent_note=run.consent_note,
            wants_listing=run.wants_listing,
            watchlisted=is_watchlisted(row["full_name"], watchlist),
            version=version,
            import_run=run,
        )
        for row in fresh
    ]
    try:
        with transaction.atomic():
            created = counting.create_counted(signatures)
    except IntegrityError:
        # A signer beat us to an address between the check and the insert: one by one, skipping them.
        created = []
        for signature in signatures:
            try:
                with transaction.atomic():
                    counting.save_counted(signature, keys_before=set())
            except IntegrityError:
                continue
            created.append(signature)
    if run.consent == Consent.INVITE:
        for signature in created:
            emails.send_import_invite(signature)
    held = sum(1 for signature in created if signature.hold_reason)
    ImportRun.objects.filter(pk=run.pk).update(
        processed_rows=F("processed_rows") + len(rows),
        imported_count=F("imported_count") + len(created),
        skipped_count=F("skipped_count") + len(rows) - len(created),
        held_count=F("held_count") + held,
    )


def build_signature(
    *,
    letter: Letter,
    row: dict[str, Any],
    consent: str,
    consent_note: str,
    wants_listing: bool,
    watchlisted: bool,
    version: Any,
    import_run: ImportRun | None,
) -> Signature:
    """A new signature from checked values, in the state its consent gives it (unsaved)."""
    now = timezone.now()
    signature = Signature(
        letter=letter,
        full_name=row["full_name"],
        email=row["email"],
        email_normalized=row["email_normalized"],
        profession_id=row.get("profession_id"),
        title=row.get("title", ""),
        affiliation=row.get("affiliation", ""),
        city=row.get("city", ""),
        country=row.get("country", ""),
        comment=row.get("comment", ""),
        answers=row.get("answers") or {},
        version=version,
        import_run=import_run,
        created_at=now,
    )
    if consent == Consent.ATTESTED:
        signature.added_by_organizers = True
        signature.consent_note = consent_note
        signature.consent_version = Signature.ATTESTED_BY_ORGANIZERS
        signature.wants_listing = wants_listing
        signature.listing_consent_at = now if wants_listing else None
        signature.state = State.CONFIRMED
        signature.confirmed_at = now
        if watchlisted:
            signature.hold_reason = Signature.HoldReason.WATCHLIST
        if not letter.requires_moderation and not signature.hold_reason:
            signature.state = State.APPROVED
            signature.approved_at = now
    else:
        # Nothing counts or shows until the person confirms (and then the
        # watchlist and moderation apply as for anyone who signs).
        signature.consent_version = Signature.INVITED_BY_ORGANIZERS
        signature.state = State.SUBMITTED
    return signature


@transaction.atomic
def add_signature(
    *,
    letter: Letter,
    full_name: str,
    email: str,
    consent: str,
    consent_note: str = "",
    wants_listing: bool = False,
    profession: Profession | None = None,
    title: str = "",
    affiliation: str = "",
    city: str = "",
    country: str = "",
    comment: str = "",
    answers: dict[str, Any] | None = None,
) -> Signature:
    """One signature added by hand in the admin, with the same consent rules as an import."""
    if consent == Consent.ATTESTED and not consent_note.strip():
        raise ValueError("An attested signature needs a note saying where the consent is recorded.")
    email_normalized = normalize_email(email)
    if already_signed(letter, [email_normalized]):
        raise AlreadySigned
    row = {
        "full_name": full_name,
        "email": email,
        "email_normalized": email_normalized,
        "profession_id": profession.pk if profession else None,
        "title": title,
        "affiliation": affiliation,
        "city": city,
        "country": country,
        "comment": comment,
        "answers": answers or {},
    }
    signature = build_signature(
        letter=letter,
        row=row,
        consent=consent,
        consent_note=consent_note.strip(),
        wants_listing=wants_listing,
        watchlisted=is_watchlisted(full_name, watchlist_entries()),
        version=ensure_letter_version(letter=letter),
        import_run=None,
    )
    try:
        with transaction.atomic():
            counting.save_counted(signature, keys_before=set())
    except IntegrityError as exc:
        raise AlreadySigned from exc
    if consent == Consent.INVITE:
        emails.send_import_invite(signature)
    return signature

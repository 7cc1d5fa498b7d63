"""
Public, machine-readable views of a letter: the listed signatories as CSV and
JSON, the live count as JSON, and a count badge other sites can embed.

Only public fields of approved signatures whose signers agreed to be listed
ever leave through here: never an email, never a hidden signature. The list
exports take the list page's filters (`q`, `profession`, and its `after` /
`before` cursors), through the page's own filtering code. The
exports stream row by row from a database cursor, so a million rows take the
memory of a few thousand.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.formats import number_format
from django.utils.translation import ngettext
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.http import require_safe

from signatures.abuse.limits import limit_per_ip
from signatures.caching import organizer_data
from signatures.caching.http import public_cache
from signatures.caching.pages import shared_public_page
from signatures.csv_export import stream_csv
from signatures.links import absolute_url
from signatures.models import CustomQuestion, Letter, Signature, SignatureCounter
from signatures.pagination import Cursor, between_cursors
from signatures.views.signatories import ListFilters

# The only columns that leave the database for a public export.
PUBLIC_COLUMNS = (
    "full_name",
    "profession__name",
    "title",
    "affiliation",
    "city",
    "country",
    "is_verified",
    "is_notable",
    "created_at",
)
CSV_HEADER = ("name", "profession", "title", "affiliation", "location", "verified", "notable", "signed_on")
# Rows fetched per round trip, and lines handed to the server per write: one
# write per row would cost a system call each.
FETCH_ROWS = 5000
LINES_PER_CHUNK = 500
# Embeds live on other sites: they may frame the badge, nothing else may run.
BADGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors *"


def letter_or_404(slug: str) -> Letter:
    return get_object_or_404(Letter.objects.public(), slug=slug)


def _listed(request: HttpRequest, letter: Letter) -> QuerySet[Signature]:
    # The professions are read only when asked for: the plain export stays at three queries.
    professions = list(letter.professions.all()) if request.GET.get("profession") else []
    rows = ListFilters.from_params(request.GET, professions).apply(Signature.objects.listed().filter(letter=letter))
    return between_cursors(
        rows, after=Cursor.decode(request.GET.get("after")), before=Cursor.decode(request.GET.get("before"))
    )


def _public_questions(letter: Letter) -> list[CustomQuestion]:
    # Only questions the organizers marked public leave in an export; the rest stay with them.
    return [q for q in organizer_data.custom_questions(letter) if q.is_public]


def _public_rows(signatures: QuerySet[Signature], questions: list[CustomQuestion]) -> Iterator[tuple[Any, ...]]:
    columns = (*PUBLIC_COLUMNS, "answers") if questions else PUBLIC_COLUMNS
    rows: Iterator[Any] = signatures.values_list(*columns).iterator(chunk_size=FETCH_ROWS)
    for name, profession, title, affiliation, city, country, verified, notable, created_at, *rest in rows:
        location = f"{city}, {country}" if city and country else city or country
        answers = rest[0] if rest else {}
        public = tuple(question.display(answers or {}) for question in questions)
        yield name, profession or "", title, affiliation, location, verified, notable, _date(created_at), *public


def _date(moment: datetime) -> str:
    return moment.date().isoformat()


def chunked(lines: Iterable[str]) -> Iterator[str]:
    batch: list[str] = []
    for line in lines:
        batch.append(line)
        if len(batch) >= LINES_PER_CHUNK:
            yield "".join(batch)
            batch = []
    if batch:
        yield "".join(batch)


def download_headers(response: HttpResponse | StreamingHttpResponse, filename: str) -> None:
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    # Public data: other sites may fetch it.
    response["Access-Control-Allow-Origin"] = "*"


# A whole export costs more than a list page: scrapers share the list's per-IP budget.
@require_safe
@limit_per_ip("exports", "SIGNATURES_LIMIT_LIST_PAGES_PER_IP", methods=("GET", "HEAD"))
@public_cache(max_age=300)
def export_csv(request: HttpRequest, slug: str) -> StreamingHttpResponse:
    letter = letter_or_404(slug)
    questions = _public_questions(letter)
    listed = _public_rows(_listed(request, letter), questions)
    rows = ((name, prof, title, aff, loc, "yes" if v else "", "yes" if n else "", d, *answers)
            for name, prof, title, aff, loc, v, n, d, *answers in listed)  # fmt: skip
    header = (*CSV_HEADER, *(q.label for q in questions))
    response = StreamingHttpResponse(chunked(stream_csv(header, rows)), content_type="text/csv; charset=utf-8")
    download_headers(response, f"{letter.slug}-signatories.csv")
    return response


def _json_lines(letter: Letter, rows: QuerySet[Signature]) -> Iterator[str]:
    head = {
        "letter": {"slug": letter.slug, "title": letter.title, "url": absolute_url(letter.get_absolute_url())},
        "count": letter.public_count,
    }
    # The object is written by hand so that the list can stream.
    yield json.dumps(head, ensure_ascii=False)[:-1] + ', "signatories": ['
    separator = "\n"
    questions = _public_questions(letter)
    for name, profession, title, affiliation, location, verified, notable, signed_on, *answers in _public_rows(
        rows, questions
    ):
        row = {
            "name": name,
            "profession": profession,
            "title": title,
            "affiliation": affiliation,
            "location": location,
            "verified": verified,
            "notable": notable,
            "signed_on": signed_on,
        }
        if questions:
            row["answers"] = {q.label: answer for q, answer in zip(questions, answers, strict=True) if answer}
        yield separator + json.dumps(row, ensure_ascii=False)
        separator = ",\n"
    yield "\n]}\n"


@require_safe
@limit_per_ip("exports", "SIGNATURES_LIMIT_LIST_PAGES_PER_IP", methods=("GET", "HEAD"))
@public_cache(max_age=300)
def export_json(request: HttpRequest, slug: str) -> StreamingHttpResponse:
    letter = letter_or_404(slug)
    lines = _json_lines(letter, _listed(request, letter))
    response = StreamingHttpResponse(chunked(lines), content_type="application/json")
    download_headers(response, f"{letter.slug}-signatories.json")
    return response


def _counts(letter: Letter) -> dict[str, Any]:
    counters = SignatureCounter.values_for(letter)
    public = counters.get(SignatureCounter.PUBLIC, 0)
    letter.public_count = public
    return {
        "letter": letter.slug,
        "count": public,
        "listed": counters.get(SignatureCounter.LISTED, 0),
        "goal": letter.goal,
        "goal_percent": min(100, round(100 * public / letter.goal)) if letter.goal else None,
    }


@require_safe
@shared_public_page
@public_cache(max_age=10)
def count_json(request: HttpRequest, slug: str) -> JsonResponse:
    """The live count for clients that poll: two small queries, cacheable for ten seconds."""
    response = JsonResponse(_counts(letter_or_404(slug)))
    response["Access-Control-Allow-Origin"] = "*"
    return response


def _badge_context(letter: Letter) -> dict[str, Any]:
    counts = _counts(letter)
    number = number_format(counts["count"], force_grouping=True)
    label = ngettext("%(number)s signature", "%(number)s signatures", counts["count"]) % {"number": number}
    # Grouped as the reader's language groups digits: "10,000", "10 000", never "10000".
    goal = number_format(counts["goal"], force_grouping=True) if counts["goal"] else ""
    return {"letter": letter, "counts": counts, "label": label, "goal": goal}


@require_safe
@shared_public_page
@xframe_options_exempt
@public_cache(max_age=60)
def badge(request: HttpRequest, slug: str) -> HttpResponse:
    """A tiny page for other sites' iframes: the count and a link, no script."""
    letter = letter_or_404(slug)
    context = {**_badge_context(letter), "letter_url": absolute_url(letter.get_absolute_url())}
    response = render(request, "signatures/exports/badge.html", context)
    response["Content-Security-Policy"] = BADGE_CSP
    return response


@require_safe
@shared_public_page
@public_cache(max_age=60)
def badge_svg(request: HttpRequest, slug: str) -> HttpResponse:
    """The count as an SVG image, for an <img> on another site or in a README."""
    context = _badge_context(letter_or_404(slug))
    # Text width in a 11px sans-serif font, roughly: SVG cannot measure it for us.
    context["width"] = 12 + 7 * len(context["label"])
    response = render(request, "signatures/exports/badge.svg", context, content_type="image/svg+xml")
    response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    response["Access-Control-Allow-Origin"] = "*"
    return response

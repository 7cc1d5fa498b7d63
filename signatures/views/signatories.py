"""
The public list of signatories: search, profession filter, keyset pages.

Four queries whatever the size of the letter or the depth of the page: the
letter (with its translation into the visitor's language, if any), its
professions, its counters, one page of rows. The page holds no
form with a CSRF token and nothing about the visitor, so browsers and CDNs
may keep it for a minute.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import translation
from django.views.decorators.http import require_GET

from signatures.abuse.limits import limit_per_ip
from signatures.caching import organizer_data
from signatures.caching.http import public_cache
from signatures.caching.pages import shared_public_page
from signatures.models import Letter, Profession, Signature, SignatureCounter
from signatures.pagination import Cursor, keyset_page
from signatures.text import name_key

MAX_QUERY_LENGTH = 120


def _profession_filter(professions: list[Profession], value: str | None) -> Profession | None:
    return next((p for p in professions if str(p.pk) == value), None)


def _url(**params: str | int | None) -> str:
    kept = {key: value for key, value in params.items() if value not in (None, "")}
    return "?" + urlencode(kept) if kept else "?"


@require_GET
# A page already kept in the shared cache costs next to nothing, so it is served
# before the per-IP limit counts: the limit is there for pages that must be drawn
# (a scraper walking a million rows asks for a new page each time).
@shared_public_page
@limit_per_ip("list-pages", "SIGNATURES_LIMIT_LIST_PAGES_PER_IP", methods=("GET", "HEAD"))
@public_cache(max_age=60)
def signatories(request: HttpRequest, slug: str) -> HttpResponse:
    # In the visitor's language when the organizers translated it, read with the letter.
    language = translation.get_language()
    letter = get_object_or_404(Letter.objects.public().with_translation(language), slug=slug).translated(language)
    professions = list(letter.professions.all())
    counters = SignatureCounter.values_for(letter)
    letter.public_count = counters.get(SignatureCounter.PUBLIC, 0)

    query = (request.GET.get("q") or "").strip()[:MAX_QUERY_LENGTH]
    search_key = name_key(query)
    profession = _profession_filter(professions, request.GET.get("profession"))

    rows = Signature.objects.listed().filter(letter=letter).select_related("profession")
    if profession is not None:
        rows = rows.filter(profession=profession)
    if search_key:
        # name_key is stored lowercase without accents, so "lopez" finds "López";
        # on PostgreSQL a trigram index answers the LIKE.
        rows = rows.filter(name_key__contains=search_key)
    page = keyset_page(
        rows,
        after=Cursor.decode(request.GET.get("after")),
        before=Cursor.decode(request.GET.get("before")),
        size=settings.SIGNATURES_PAGE_SIZE,
    )

    filters = {"q": query, "profession": profession.pk if profession else None}
    context = {
        "letter": letter,
        "page": page,
        "query": query,
        "profession": profession,
        "listed_count": counters.get(SignatureCounter.LISTED, 0),
        "profession_counts": [
            {
                "profession": p,
                "count": counters.get(SignatureCounter.profession_key(p.pk), 0),
                "url": _url(q=query, profession=p.pk),
                "is_current": p == profession,
            }
            for p in professions
        ],
        "all_professions_url": _url(q=query),
        "first_url": _url(**filters),
        "next_url": _url(**filters, after=page.next_cursor) if page.next_cursor else None,
        "previous_url": _url(**filters, before=page.previous_cursor) if page.previous_cursor else None,
        "is_first_page": not page.has_previous,
        "public_questions": [q for q in organizer_data.custom_questions(letter) if q.is_public],
    }
    return render(request, "signatures/signatories/list.html", context)

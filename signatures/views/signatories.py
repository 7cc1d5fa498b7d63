"""
The public list of signatories: search, profession filter, keyset pages.

Four queries whatever the size of the letter or the depth of the page: the
letter (with its translation into the visitor's language, if any), its
professions, its counters, one page of rows. The page holds no
form with a CSRF token and nothing about the visitor, so browsers and CDNs
may keep it for a minute.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from django.conf import settings
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, render
from django.utils import translation
from django.views.decorators.http import require_safe

from signatures.abuse.limits import limit_per_ip
from signatures.caching import organizer_data
from signatures.caching.http import public_cache
from signatures.caching.pages import shared_public_page
from signatures.models import Letter, Profession, Signature, SignatureCounter
from signatures.pagination import Cursor, KeysetPage, NameCursor, alphabetical_page, keyset_page
from signatures.text import name_key

MAX_QUERY_LENGTH = 120
# ?order=name lists from A to Z by folded name; without it, the public order (notable first, then newest).
ORDER_BY_NAME = "name"
# ?order=name lists from A to Z by folded name; without it, the public order (notable first, then newest).
ORDER_BY_NAME = "name"


def _profession_filter(professions: list[Profession], value: str | None) -> Profession | None:
    return next((p for p in professions if str(p.pk) == value), None)


@dataclass(frozen=True)
class ListFilters:
    """What a reader asked the list for: a name search and a profession."""

    query: str
    profession: Profession | None

    @classmethod
    def from_params(cls, params: QueryDict, professions: list[Profession]) -> ListFilters:
        return cls(
            query=(params.get("q") or "").strip()[:MAX_QUERY_LENGTH],
            profession=_profession_filter(professions, params.get("profession")),
        )

    def apply(self, rows: QuerySet[Signature]) -> QuerySet[Signature]:
        if self.profession is not None:
            rows = rows.filter(profession=self.profession)
        search_key = name_key(self.query)
        if search_key:
            # name_key is stored lowercase without accents, so "lopez" finds "López";
            # on PostgreSQL a trigram index answers the LIKE.
            rows = rows.filter(name_key__contains=search_key)
        return rows


def _url(**params: str | int | None) -> str:
    kept = {key: value for key, value in params.items() if value not in (None, "")}
    return "?" + urlencode(kept) if kept else "?"


@require_safe
# A page already kept in the shared cache costs next to nothing, so it is served
# before the per-IP limit counts: the limit is there for pages that must be drawn
# (a scraper walking a million rows asks for a new page each time).
@shared_public_page
@limit_per_ip("list-pages", "SIGNATURES_LIMIT_LIST_PAGES_PER_IP", methods=("GET", "HEAD"))
@public_cache(max_age=60)
def signatories(request: HttpRequest, slug: str) -> HttpResponse:
    # In the visitor's language when the organizers translated it, read with the letter.
    language = translation.get_language()
    letter = get_object_or_404(Letter.objects.public().with_translation(language), slug=slug)
    professions = list(letter.professions.all())
    counters = SignatureCounter.values_for(letter)
    letter.public_count = counters.get(SignatureCounter.PUBLIC, 0)

    filters = ListFilters.from_params(request.GET, professions)
    query, profession = filters.query, filters.profession
    order = ORDER_BY_NAME if request.GET.get("order") == ORDER_BY_NAME else None
    rows = filters.apply(Signature.objects.listed().filter(letter=letter).select_related("profession"))
    size = settings.SIGNATURES_PAGE_SIZE
    after, before = request.GET.get("after"), request.GET.get("before")
    page: KeysetPage
    if order == ORDER_BY_NAME:
        page = alphabetical_page(rows, after=NameCursor.decode(after), before=NameCursor.decode(before), size=size)
    else:
        page = keyset_page(rows, after=Cursor.decode(after), before=Cursor.decode(before), size=size)

    params = {"q": query, "profession": profession.pk if profession else None, "order": order}
    counted = [(p, counters.get(SignatureCounter.profession_key(p.pk), 0)) for p in professions]
    context = {
        "letter": letter.translated(language),
        "page": page,
        "query": query,
        "profession": profession,
        "listed_count": counters.get(SignatureCounter.LISTED, 0),
        # A filter that would show nobody is noise ("Other (0)"), unless it is the one chosen.
        "profession_counts": [
            {
                "profession": p,
                "count": count,
                "url": _url(q=query, profession=p.pk, order=order),
                "is_current": p == profession,
            }
            for p, count in counted
            if count or p == profession
        ],
        "all_professions_url": _url(q=query, order=order),
        "order": order,
        # Known from the counters without a query; a name search would need a COUNT over the matches.
        "profession_total": dict(counted).get(profession, 0) if profession else None,
        "newest_order_url": _url(q=query, profession=profession.pk if profession else None),
        "name_order_url": _url(q=query, profession=profession.pk if profession else None, order=ORDER_BY_NAME),
        "first_url": _url(**params),
        "next_url": _url(**params, after=page.next_cursor) if page.next_cursor else None,
        "previous_url": _url(**params, before=page.previous_cursor) if page.previous_cursor else None,
        "is_first_page": not page.has_previous,
        "public_questions": [q for q in organizer_data.custom_questions(letter) if q.is_public],
    }
    return render(request, "signatures/signatories/list.html", context)

"""
Transparency: how a letter's signatures are verified, the public ledger of
moderation outcomes, how the count grew, and the printable document delivered
to the addressee with the frozen list anyone can check against its hash.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.cache import add_never_cache_headers, patch_cache_control
from django.utils.formats import date_format
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from signatures import delivery as delivered_list
from signatures.abuse.limits import limit_per_ip
from signatures.caching.http import public_cache
from signatures.caching.pages import shared_public_page
from signatures.models import Letter, SignatureCounter
from signatures.reports.charts import Series, bar_chart_svg
from signatures.reports.growth import DAY, HOUR, HOURLY_DAYS, Growth, growth_of
from signatures.reports.ledger import ledger_for
from signatures.views.exports import chunked, download_headers


def _growth_charts(growth: Growth) -> dict[str, str]:
    # bar_chart_svg escapes every piece of text it is given.
    per_day = bar_chart_svg(
        series=[Series(label=_("Signatures per day"), points=growth.per_day)],
        bucket=DAY,
        title=_("Signatures per day"),
        description=_("Approved signatures per day, from the first to the latest; the table gives the numbers."),
        markers=growth.markers,
        bands=growth.bands,
        id_prefix="growth-day",
    )
    per_hour = bar_chart_svg(
        series=[Series(label=_("Signatures per hour"), points=growth.per_hour)],
        bucket=HOUR,
        title=_("Signatures per hour, first %(days)d days") % {"days": HOURLY_DAYS},
        description=_("Approved signatures per hour in the first days; the table beside gives the numbers."),
        tick_label=lambda moment: date_format(moment, "SHORT_DATETIME_FORMAT"),
        markers=growth.markers,
        bands=growth.bands,
        id_prefix="growth-hour",
    )
    return {"per_day": mark_safe(per_day), "per_hour": mark_safe(per_hour)}


@require_safe
@shared_public_page
@public_cache(max_age=60)
def transparency(request: HttpRequest, slug: str) -> HttpResponse:
    letter = get_object_or_404(Letter.objects.public(), slug=slug)
    growth = growth_of(letter)
    context = {
        "letter": letter,
        "ledger": ledger_for(letter),
        "version": letter.current_version,
        "growth": growth,
        "charts": _growth_charts(growth) if growth.per_day else None,
        "hourly_rows": [(hour, count) for hour, count in growth.per_hour if count],
    }
    return render(request, "signatures/transparency/ledger.html", context)


def _can_see_delivery(request: HttpRequest, letter: Letter) -> bool:
    # Staff may prepare the document at any time. Once delivered it is public:
    # it holds only what the public list already shows, and lets the press
    # check what the addressee received (text hash, count, names).
    if request.user.is_active and request.user.is_staff:
        return True
    return letter.delivered_at is not None and Letter.objects.public().filter(pk=letter.pk).exists()


@never_cache
@require_safe
def delivery(request: HttpRequest, slug: str) -> HttpResponse:
    letter = get_object_or_404(Letter, slug=slug)
    if not _can_see_delivery(request, letter):
        raise Http404
    # The document shows what was delivered, not who signed afterwards.
    signatories = delivered_list.printed_signatories(letter)
    version = letter.delivered_version or letter.current_version
    context = {
        "letter": letter,
        "signatories": signatories,
        "version": version,
        "count": letter.delivered_count
        if letter.delivered_at is not None
        else SignatureCounter.value_for(letter, SignatureCounter.PUBLIC),
    }
    return render(request, "signatures/transparency/delivery.html", context)


def _delivered_letter_or_404(slug: str) -> Letter:
    letter = get_object_or_404(Letter.objects.public(), slug=slug, delivered_at__isnull=False)
    if not letter.delivered_list_sha256:
        raise Http404  # delivered before lists were frozen: there is nothing to check against
    return letter


@require_safe
@public_cache(max_age=3600)
def delivered_list_csv(request: HttpRequest, slug: str) -> HttpResponse:
    """The list as delivered, byte for byte the file whose SHA-256 the transparency page shows."""
    letter = _delivered_letter_or_404(slug)
    response = HttpResponse(letter.delivered_list_csv.encode("utf-8"), content_type="text/csv; charset=utf-8")
    download_headers(response, f"{letter.slug}-delivered-list.csv")
    response["ETag"] = f'"{letter.delivered_list_sha256}"'
    return response


@require_safe
@limit_per_ip("exports", "SIGNATURES_LIMIT_LIST_PAGES_PER_IP", methods=("GET", "HEAD"))
@public_cache(max_age=300)
def todays_list_csv(request: HttpRequest, slug: str) -> StreamingHttpResponse:
    """Everyone listed today, in the delivered list's format and order, so the two can be compared line by line."""
    letter = _delivered_letter_or_404(slug)
    lines = delivered_list.list_csv_lines(delivered_list.todays_signatories(letter))
    response = StreamingHttpResponse(chunked(lines), content_type="text/csv; charset=utf-8")
    download_headers(response, f"{letter.slug}-list-today.csv")
    return response


# Seconds a client is asked to wait while the worker draws a delivered letter's PDF.
PDF_RETRY_AFTER = 60


@require_safe
def delivery_pdf(request: HttpRequest, slug: str) -> HttpResponse:
    """
    The delivered PDF as the worker drew it, the same for everyone; before
    delivery, a draft drawn on request, for staff only.
    """
    letter = get_object_or_404(Letter, slug=slug)
    if not _can_see_delivery(request, letter):
        raise Http404
    if letter.delivered_at is None:
        response = HttpResponse(delivered_list.delivery_pdf(letter=letter), content_type="application/pdf")
        add_never_cache_headers(response)
    elif letter.delivered_pdf:
        response = HttpResponse(bytes(letter.delivered_pdf), content_type="application/pdf")
        patch_cache_control(response, public=True, max_age=3600)
    else:
        response = HttpResponse(
            _("The document is being prepared. Please try again in a minute."),
            status=503,
            content_type="text/plain; charset=utf-8",
        )
        response["Retry-After"] = str(PDF_RETRY_AFTER)
        return response
    response["Content-Disposition"] = f'inline; filename="{letter.slug}.pdf"'
    return response

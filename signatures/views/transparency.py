"""
Transparency: how a letter's signatures are verified, the public ledger of
moderation outcomes, and the printable document delivered to the addressee.
"""

from __future__ import annotations

from django.db.models import F
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.cache import cache_control, never_cache
from django.views.decorators.http import require_safe

from signatures.models import Letter, Signature, SignatureCounter
from signatures.reports.ledger import ledger_for


@require_safe
@cache_control(public=True, max_age=60)
def transparency(request: HttpRequest, slug: str) -> HttpResponse:
    letter = get_object_or_404(Letter.objects.public(), slug=slug)
    context = {"letter": letter, "ledger": ledger_for(letter), "version": letter.current_version}
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
    signatories = (
        Signature.objects.listed()
        .filter(letter=letter)
        .select_related("profession")
        .order_by(F("profession__position").asc(nulls_last=True), "profession__name", "name_key", "pk")
    )
    if letter.delivered_at is not None:
        # The document shows what was delivered, not who signed afterwards.
        signatories = signatories.filter(approved_at__lte=letter.delivered_at)
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

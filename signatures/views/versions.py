"""
Text versions: the public "changes since publication" log, each version
readable, and the emailed link that asks an earlier signer to re-affirm.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from signatures import services
from signatures.models import Letter, LetterVersion, Signature
from signatures.revisions import diff_paragraphs
from signatures.tokens import Purpose, make_token


def _public_letter(slug: str) -> Letter:
    return get_object_or_404(Letter.objects.public(), slug=slug)


@require_safe
def versions(request: HttpRequest, slug: str) -> HttpResponse:
    letter = _public_letter(slug)
    context = {"letter": letter, "versions": letter.versions.order_by("-number")}
    return render(request, "signatures/versions/list.html", context)


@require_safe
def version_detail(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    letter = _public_letter(slug)
    version = get_object_or_404(LetterVersion, letter=letter, number=number)
    previous = letter.versions.filter(number__lt=number).order_by("-number").first()
    context = {
        "letter": letter,
        "version": version,
        "previous": previous,
        "diff": diff_paragraphs(previous, version) if previous else None,
        "is_current": version == letter.current_version,
    }
    return render(request, "signatures/versions/detail.html", context)


def _withdraw_url(signature: Signature) -> str | None:
    # The withdrawal flow lives in its own view; link to it with a fresh token.
    try:
        return reverse("signatures:withdraw", kwargs={"token": make_token(signature, Purpose.WITHDRAW)})
    except NoReverseMatch:
        return None


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def reaffirm(request: HttpRequest, token: str) -> HttpResponse:
    # Mail link scanners fetch links: the GET only shows the change and the buttons.
    if request.method == "POST":
        signature = services.reaffirm_signature(token=token)
        if signature is None:
            return render(request, "signatures/link_invalid.html", {"purpose": "reaffirm"}, status=400)
        return render(
            request, "signatures/versions/reaffirmed.html", {"signature": signature, "letter": signature.letter}
        )
    signature = services.find_signature_for_token(token, Purpose.REAFFIRM)
    if signature is None or not signature.needs_reaffirmation:
        return render(request, "signatures/link_invalid.html", {"purpose": "reaffirm"}, status=400)
    letter = signature.letter
    current = letter.current_version
    if current is None:
        raise Http404
    context = {
        "signature": signature,
        "letter": letter,
        "old_version": signature.version,
        "new_version": current,
        "diff": diff_paragraphs(signature.version, current),
        "withdraw_url": _withdraw_url(signature),
    }
    return render(request, "signatures/versions/reaffirm.html", context)

"""A printable flyer per letter: title, addressee, summary and a QR code of the letter's address."""

from __future__ import annotations

import segno
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from signatures.caching.http import public_cache
from signatures.caching.pages import shared_public_page
from signatures.links import letter_url
from signatures.views.letters import letter_or_404


def qr_code_svg(url: str, *, title: str) -> str:
    # Inline SVG: prints sharp at any size, no image request, no script. Medium
    # error correction survives a crease or a smudge on a posted flyer.
    code = segno.make(url, error="m")
    return code.svg_inline(
        scale=1, border=4, omitsize=True, title=title, svgclass="flyer-qr-code", lineclass=None, light="#fff"
    )


@require_safe
@shared_public_page
@public_cache(max_age=300)
def flyer(request: HttpRequest, slug: str) -> HttpResponse:
    letter = letter_or_404(slug)
    url = letter_url(letter)
    context = {
        "letter": letter.translated(translation.get_language()),
        "letter_url": url,
        "qr_svg": qr_code_svg(url, title=_("QR code: %(url)s") % {"url": url}),
    }
    return render(request, "signatures/flyer.html", context)

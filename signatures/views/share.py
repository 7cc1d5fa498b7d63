"""The share image that Open Graph and Twitter cards point at."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import translation
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe

from signatures.models import Letter
from signatures.share_image import share_image_png


@require_safe
@cache_control(public=True, max_age=300)
def share_image(request: HttpRequest, slug: str) -> HttpResponse:
    letter = get_object_or_404(Letter.objects.public(), slug=slug).translated(translation.get_language())
    return HttpResponse(share_image_png(letter), content_type="image/png")

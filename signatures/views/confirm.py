"""The emailed confirmation link: GET shows a button, POST confirms."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from signatures import services
from signatures.abuse.limits import limit_per_ip
from signatures.models import Signature
from signatures.tokens import Purpose


@never_cache
@limit_per_ip("token-post", "SIGNATURES_LIMIT_TOKEN_POSTS_PER_IP")
@require_http_methods(["GET", "HEAD", "POST"])
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    # Mail link scanners fetch links: the GET only shows a button.
    if request.method == "POST":
        # Only people added by the organizers choose listing here; others chose on the form.
        signature = services.confirm_signature(token=token, wants_listing=request.POST.get("wants_listing") == "on")
        if signature is None:
            return render(request, "signatures/link_invalid.html", {"purpose": "confirm"}, status=400)
        letter = signature.letter.translated(translation.get_language())
        return render(request, "signatures/confirmed.html", {"signature": signature, "letter": letter})
    signature = services.find_signature_for_token(token, Purpose.CONFIRM)
    if signature is None or signature.state != Signature.State.SUBMITTED:
        return render(request, "signatures/link_invalid.html", {"purpose": "confirm"}, status=400)
    letter = signature.letter.translated(translation.get_language())
    return render(request, "signatures/confirm.html", {"signature": signature, "letter": letter})

"""
Updates to signers: stopping them from the emailed link. The letter page
shows the published updates (signatures/views/letters.py).
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from signatures import services
from signatures.tokens import Purpose


# RFC 8058: a mail client's "Unsubscribe" button POSTs
# "List-Unsubscribe=One-Click" to this URL from its own servers, with no
# cookie and no CSRF token; the token in the URL is what authenticates, and
# the worst a forged POST can do is stop someone's updates. No per-IP limit
# either: those POSTs come from a few big providers' addresses.
@csrf_exempt
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    # Mail link scanners fetch links: the GET only shows a button.
    if request.method == "POST":
        signature = services.unsubscribe_from_updates(token=token)
        if signature is None:
            return render(request, "signatures/link_invalid.html", {"purpose": "unsubscribe"}, status=400)
        return render(request, "signatures/updates/unsubscribed.html", {"letter": signature.letter})
    signature = services.find_signature_for_token(token, Purpose.UNSUBSCRIBE)
    if signature is None:
        return render(request, "signatures/link_invalid.html", {"purpose": "unsubscribe"}, status=400)
    return render(request, "signatures/updates/unsubscribe.html", {"signature": signature, "letter": signature.letter})

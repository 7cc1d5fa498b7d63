"""
The sign widget partner sites put in an iframe: the letter's title, whom it
is to, the live count and a button that opens the sign form in a new tab.

Compact on purpose. Inside a cross-site frame Chromium blocks or partitions
third-party cookies, so the CSRF cookie our sign form relies on may never
arrive, and a frame is where clickjacking lives. Signing therefore happens
on our own page, top level, where the cookie, the CSRF check and the bot
checks work as they do for everyone else. Only the origins the organizers
list for the letter may frame the widget; every other page keeps
`frame-ancestors 'none'`.
"""

from __future__ import annotations

from csp.utils import build_policy
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.http import require_safe

from signatures.caching.http import public_cache
from signatures.caching.pages import shared_public_page
from signatures.links import letter_url
from signatures.views.letters import letter_or_404


@require_safe
@shared_public_page
@xframe_options_exempt
@public_cache(max_age=60)
def embed(request: HttpRequest, slug: str) -> HttpResponse:
    letter = letter_or_404(slug)
    origins = letter.embed_origin_list
    context = {"letter": letter.translated(translation.get_language()), "letter_url": letter_url(letter)}
    response = render(request, "signatures/embed/embed.html", context)
    # The site's own policy, with the letter's partners as the only frame
    # ancestors (none listed: nobody may frame it, as everywhere else).
    response["Content-Security-Policy"] = build_policy(replace={"frame-ancestors": origins or ["'none'"]})
    return response

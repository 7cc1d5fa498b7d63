"""
`{% sign_form_guard letter %}`: the sign form's hidden parts — the CSRF
token, the honeypot, and the signed, single-use render stamp, bound to that
token, so a stamp is good only in the form it was drawn with. When the letter
view draws the page to keep it for every visitor (`caching.pages`), the token
and the stamp are placeholders that each visit fills in.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.middleware.csrf import get_token
from django.utils.html import format_html

from signatures.abuse.bots import HONEYPOT_FIELD, STAMP_FIELD, make_form_stamp
from signatures.caching.pages import CSRF_PLACEHOLDER, STAMP_PLACEHOLDER

register = template.Library()


@register.simple_tag(takes_context=True)
def sign_form_guard(context: dict[str, Any], letter: Any) -> str:
    if context.get("page_placeholders"):
        token, stamp = CSRF_PLACEHOLDER, STAMP_PLACEHOLDER
    else:
        token = get_token(context["request"])
        stamp = make_form_stamp(letter.pk, visitor=token)
    # `hidden` keeps the honeypot from people and screen readers without any
    # inline style (the CSP forbids those); bots reading the HTML still see it.
    return format_html(
        '<input type="hidden" name="csrfmiddlewaretoken" value="{0}">'
        '<div hidden><label for="id_{1}">Leave this field empty</label>'
        '<input type="text" name="{1}" id="id_{1}" value="" tabindex="-1" autocomplete="off"></div>'
        '<input type="hidden" name="{2}" value="{3}">',
        token,
        HONEYPOT_FIELD,
        STAMP_FIELD,
        stamp,
    )

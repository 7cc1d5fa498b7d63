"""
The sign form's hidden parts: `{% sign_form_csrf %}` (the CSRF token) and
`{% sign_form_guard letter %}` (the honeypot and the signed render stamp).
When the letter view draws the page to keep it for every visitor
(`caching.pages`), both write placeholders that each visit fills in.
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
def sign_form_csrf(context: dict[str, Any]) -> str:
    token = CSRF_PLACEHOLDER if context.get("page_placeholders") else get_token(context["request"])
    return format_html('<input type="hidden" name="csrfmiddlewaretoken" value="{}">', token)


@register.simple_tag(takes_context=True)
def sign_form_guard(context: dict[str, Any], letter: Any) -> str:
    stamp = STAMP_PLACEHOLDER if context.get("page_placeholders") else make_form_stamp(letter.pk)
    # `hidden` keeps the honeypot from people and screen readers without any
    # inline style (the CSP forbids those); bots reading the HTML still see it.
    return format_html(
        '<div hidden><label for="id_{0}">Leave this field empty</label>'
        '<input type="text" name="{0}" id="id_{0}" value="" tabindex="-1" autocomplete="off"></div>'
        '<input type="hidden" name="{1}" value="{2}">',
        HONEYPOT_FIELD,
        STAMP_FIELD,
        stamp,
    )

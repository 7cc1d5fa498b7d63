"""`{% sign_form_guard letter %}`: the honeypot and the signed, single-use render stamp of the sign form."""

from __future__ import annotations

from django import template
from django.utils.html import format_html

from signatures.abuse.bots import HONEYPOT_FIELD, STAMP_FIELD, make_form_stamp, visitor_drawing_form

register = template.Library()


@register.simple_tag(takes_context=True)
def sign_form_guard(context, letter) -> str:
    request = context.get("request")
    visitor = visitor_drawing_form(request) if request is not None else ""
    # `hidden` keeps the honeypot from people and screen readers without any
    # inline style (the CSP forbids those); bots reading the HTML still see it.
    return format_html(
        '<div hidden><label for="id_{0}">Leave this field empty</label>'
        '<input type="text" name="{0}" id="id_{0}" value="" tabindex="-1" autocomplete="off"></div>'
        '<input type="hidden" name="{1}" value="{2}">',
        HONEYPOT_FIELD,
        STAMP_FIELD,
        make_form_stamp(letter.pk, visitor=visitor),
    )

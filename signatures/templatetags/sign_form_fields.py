"""
`{% sign_form_fields form %}`: the sign form's visible fields, each drawn by
`signatures/_field.html`. A blank form is the same for every visitor, so its
HTML is kept with the organizer data it comes from
(`organizer_data.blank_sign_form_html`); a form sent back with errors holds one
visitor's answers (as would a form filled in for someone) and is always drawn
afresh.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.safestring import SafeString, mark_safe

from signatures.caching import organizer_data

register = template.Library()


@register.simple_tag
def sign_form_fields(form: Any) -> SafeString:
    def draw() -> str:
        return render_to_string("signatures/_sign_form_fields.html", {"form": form})

    # Sent back with errors, or filled in for someone: one visitor's data, never kept.
    if form.is_bound or form.initial:
        return mark_safe(draw())  # a rendered template, escaped by the engine
    variant = f"{type(form).__qualname__}:{translation.get_language()}"
    return mark_safe(organizer_data.blank_sign_form_html(form.letter, variant, draw))

"""
`{% signatory_items signatures letter public_questions %}`: the `<li>` of each
signatory on the letter page and the public list.

Drawn in Python rather than with an `{% include %}` per row: the include, its
`{% translate %}` tags and a dozen variable lookups cost about 60 µs of CPU
per row through the template engine, three milliseconds on a list page of
fifty (bench/page_cost.py). Here the labels are translated once per list and
each row is a few escapes and a join. Every value a signer typed goes through
`escape`, as `{{ }}` would: names are attacker-controlled.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

from signatures.models import CustomQuestion, Signature
from signatures.templatetags.answers import public_answers
from signatures.templatetags.trust import signed_version

register = template.Library()


@register.simple_tag
def signatory_items(
    signatures: Iterable[Signature], letter: Any, public_questions: Iterable[CustomQuestion]
) -> SafeString:
    # A native disclosure for "verified": keyboard and screen readers reach it, no
    # script needed; only the method's category is shown.
    verified_open = (
        ' <details class="verified"><summary><span aria-hidden="true">✓</span> '
        + escape(gettext("verified"))
        + '</summary><span class="verified-method">'
    )
    checked_by_organizers = escape(gettext("Identity checked by the organizers"))
    founding_mark = ' <span class="founding-mark">' + escape(gettext("founding signatory")) + "</span>"
    # The translation is trusted markup, as in {% blocktranslate %}; only the number is filled in.
    signed_text = gettext("signed text v%(number)s")
    questions = list(public_questions or ())
    items = []
    for signature in signatures:
        parts = ['<li class="signatory">\n  <span class="signatory-name">', escape(signature.full_name), "</span>"]
        if signature.is_verified:
            parts.append(verified_open)
            if signature.verification_method:
                parts.append(escape(signature.get_verification_method_display()))
            else:
                parts.append(checked_by_organizers)
            parts.append("</span></details>")
        if signature.is_founding:
            parts.append(founding_mark)
        version_number = signed_version(letter, signature)
        if version_number:
            parts += [' <span class="signed-version">', signed_text % {"number": version_number}, "</span>"]
        parts.append("\n  ")
        profession, affiliation, location = signature.profession_label, signature.affiliation, signature.location
        if profession or affiliation or location:
            parts.append('<span class="signatory-details">')
            if profession:
                parts += ['<span class="signatory-profession">', escape(profession), "</span>"]
            if affiliation:
                parts += ['<span class="signatory-affiliation">', escape(affiliation), "</span>"]
            if location:
                parts += ['<span class="signatory-location">', escape(location), "</span>"]
            parts.append("</span>")
        parts.append("\n  ")
        if questions:
            for label, answer in public_answers(signature, questions):
                parts += ['<span class="signatory-answer">', escape(label), ": ", escape(answer), "</span>"]
        parts.append("\n</li>\n")
        items.append("".join(parts))
    return mark_safe("".join(items))  # every value a signer typed is escaped above

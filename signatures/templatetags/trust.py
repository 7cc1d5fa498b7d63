"""Template helpers for a letter people can trust: which text version a signatory signed."""

from __future__ import annotations

from django import template

from signatures.models import Letter, Signature

register = template.Library()


@register.simple_tag
def signed_version(letter: Letter | None, signature: Signature) -> int | None:
    """The number of the version this person signed, once the letter has more than one (else None)."""
    # No query for a letter whose text was never revised: the count is on the letter row.
    if letter is None or not signature.version_id or letter.version_count < 2:
        return None
    return letter.version_numbers.get(signature.version_id)

"""Answers to the organizers' custom questions on public pages: only those of questions marked public."""

from __future__ import annotations

from collections.abc import Iterable

from django import template

from signatures.models import CustomQuestion, Signature

register = template.Library()


@register.filter
def public_answers(signature: Signature, questions: Iterable[CustomQuestion]) -> list[tuple[str, str]]:
    """[(question, answer)] for the public questions this signer answered; never a private one."""
    found = []
    for question in questions or ():
        if question.is_public:
            shown = question.display(signature.answers or {})
            if shown:
                found.append((question.label, shown))
    return found

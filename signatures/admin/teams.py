"""
Letter teams in the admin: a staff member on a letter's team (`Letter.moderators`)
sees and acts on that letter's rows only; superusers, and staff on no team,
see every letter. Every admin whose rows belong to a letter mixes this in, so
the rule holds in its lists, change pages, actions and exports alike
(actions and exports run on `get_queryset`, so ids of another letter's rows
posted by hand select nothing). Registers no model.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Field, QuerySet
from django.http import HttpRequest

from signatures.models import Letter


class LetterTeamFilter(admin.RelatedFieldListFilter):
    """The letter filter, offering only the letters the user moderates (their titles are not theirs to see)."""

    def field_choices(self, field: Field, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple]:
        return [(letter.pk, str(letter)) for letter in Letter.objects.visible_to(request.user).order_by("title")]


class LetterTeamAdmin(admin.ModelAdmin):
    # How this model reaches its letter, as a lookup ("pk" for Letter itself).
    letter_lookup = "letter"

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = super().get_queryset(request)
        letter_ids = Letter.team_letter_ids(request.user)
        if letter_ids is None:
            return queryset
        field = "pk" if self.letter_lookup == "pk" else f"{self.letter_lookup}_id"
        return queryset.filter(**{f"{field}__in": letter_ids})

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any):
        if db_field.related_model is Letter:
            kwargs["queryset"] = Letter.objects.visible_to(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

"""Submitting the letter's admin change form the way a browser does, with every inline's current values."""

from __future__ import annotations

from typing import Any

from django.forms import BoundField
from django.forms.widgets import CheckboxInput, SplitDateTimeWidget
from django.test import Client
from django.urls import reverse


def _field_data(bound: BoundField) -> dict[str, Any]:
    value = bound.value()
    widget = bound.field.widget
    if isinstance(widget, SplitDateTimeWidget):
        date, time = widget.decompress(value)
        return {f"{bound.html_name}_0": date or "", f"{bound.html_name}_1": time or ""}
    if isinstance(widget, CheckboxInput):
        return {bound.html_name: "on"} if value else {}
    if value is None:
        return {bound.html_name: ""}
    if isinstance(value, list | tuple):
        return {bound.html_name: [str(v) for v in value]}
    return {bound.html_name: str(value)}


def change_form_data(client: Client, letter_pk: int) -> dict[str, Any]:
    """The POST data of the letter's change form as it is displayed now."""
    response = client.get(reverse("admin:signatures_letter_change", args=[letter_pk]))
    assert response.status_code == 200
    data: dict[str, Any] = {}
    for bound in response.context["adminform"].form:
        data.update(_field_data(bound))
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        for bound in formset.management_form:
            data[bound.html_name] = bound.value()
        for form in formset.forms:
            for bound in form:
                data.update(_field_data(bound))
    return data


def save_letter(client: Client, letter_pk: int, **changes: Any):
    data = change_form_data(client, letter_pk)
    data.update(changes)
    return client.post(reverse("admin:signatures_letter_change", args=[letter_pk]), data)

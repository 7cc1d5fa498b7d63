"""Acting in the admin the way an organizer does: open the queue, tick rows, pick an action."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from tests.factories import make_staff

CHANGELIST = "admin:signatures_signature_changelist"


def changelist_url(**params: Any) -> str:
    url = reverse(CHANGELIST)
    if params:
        url += "?" + urlencode(params)
    return url


def run_action(client: Client, action: str, ids: Iterable[int], *, url: str | None = None, **extra: Any):
    """Tick the given rows and run an action, as the changelist's form posts it."""
    data = {"action": action, "_selected_action": [str(pk) for pk in ids], "index": "0", **extra}
    return client.post(url or changelist_url(), data)


def make_moderator(username: str = "moderator"):
    user = make_staff(username, superuser=False)
    user.groups.add(Group.objects.get(name="Moderators"))
    return user

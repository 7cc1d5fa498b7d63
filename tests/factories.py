"""Small hand-written factories: each returns a saved object with sensible defaults."""

from __future__ import annotations

import itertools
import time
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone

from signatures import services
from signatures.abuse.bots import HONEYPOT_FIELD, STAMP_FIELD, make_form_stamp
from signatures.models import Letter, Profession, Signature
from signatures.text import normalize_email

_sequence = itertools.count(1)


def make_letter(**overrides: Any) -> Letter:
    n = next(_sequence)
    fields = {
        "slug": f"letter-{n}",
        "title": f"Letter number {n}",
        "addressee": "The Minister",
        "summary": "A short summary.",
        "body": "We ask you to **act**.",
        "status": Letter.Status.OPEN,
        "requires_moderation": True,
    }
    fields.update(overrides)
    letter = Letter.objects.create(**fields)
    if not letter.professions.exists():
        Profession.objects.create(letter=letter, name="Director", position=0)
        Profession.objects.create(letter=letter, name="Composer", position=1)
    return letter


def make_signature(letter: Letter, state: str = Signature.State.SUBMITTED, **overrides: Any) -> Signature:
    """A signature in the given state, with counters kept exact (it goes through the services)."""
    n = next(_sequence)
    email = overrides.pop("email", f"signer{n}@example.org")
    fields = {
        "letter": letter,
        "full_name": f"Signer {n}",
        "email": email,
        "email_normalized": normalize_email(email),
        "profession": letter.professions.first(),
        "wants_listing": True,
    }
    fields.update(overrides)
    signature = Signature(**fields)
    services.save_counted(signature, keys_before=set())
    now = timezone.now()
    if state in (Signature.State.CONFIRMED, Signature.State.APPROVED):
        keys = signature.counter_keys()
        signature.state = Signature.State.CONFIRMED
        signature.confirmed_at = now
        services.save_counted(signature, keys)
    if state == Signature.State.APPROVED:
        services.approve_signatures(signature_ids=[signature.pk], moderator=None)
    elif state == Signature.State.REJECTED:
        services.reject_signatures(signature_ids=[signature.pk], moderator=None)
    signature.refresh_from_db()
    return signature


def make_staff(username: str = "organizer", *, superuser: bool = True, **extra: Any):
    user_model = get_user_model()
    return user_model.objects.create_user(
        username=username,
        email=f"{username}@example.org",
        password="a-long-test-password",
        is_staff=True,
        is_superuser=superuser,
        **extra,
    )


def form_guard(letter: Letter, *, seconds_ago: float = 60, visitor: str = "") -> dict[str, str]:
    """
    The sign form's anti-bot fields as a browser sends them: an empty honeypot,
    a fresh stamp drawn a minute ago for `visitor` (the CSRF token of the form
    it was drawn in; '' for a test client that sends none).
    """
    stamp = make_form_stamp(letter.pk, visitor=visitor, issued_at=time.time() - seconds_ago)
    return {HONEYPOT_FIELD: "", STAMP_FIELD: stamp}


def drawn_form_fields(page: str) -> dict[str, str]:
    """The CSRF token and stamp of the sign form in a page, which a browser sends back together."""
    token = page.split('name="csrfmiddlewaretoken" value="')[1].split('"', maxsplit=1)[0]
    stamp = page.split(f'name="{STAMP_FIELD}" value="')[1].split('"', maxsplit=1)[0]
    return {"csrfmiddlewaretoken": token, STAMP_FIELD: stamp}


def sign_data(letter: Letter, **overrides: Any) -> dict[str, Any]:
    """What a person types into the sign form (with the form's anti-bot fields)."""
    data = {
        **form_guard(letter),
        "full_name": "Agnès Varda",
        "email": "agnes@example.org",
        "profession": str(letter.professions.first().pk),
        "title": "",
        "affiliation": "Ciné-Tamaris",
        "city": "Paris",
        "country": "France",
        "comment": "",
        "wants_listing": "on",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}

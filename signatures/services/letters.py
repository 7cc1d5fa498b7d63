"""Organizers' work on a letter: pausing, founding invitations, text versions, launch, delivery."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import datetime

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from signatures import emails
from signatures.caching import organizer_data
from signatures.models import (
    Invitation,
    Letter,
    LetterVersion,
    Signature,
    SignatureCounter,
)

State = Signature.State


@transaction.atomic
def set_letter_paused(*, letter: Letter, is_paused: bool) -> bool:
    """Pause (or resume) signing without closing the letter; pending confirmations keep working."""
    changed = (
        Letter.objects.filter(pk=letter.pk)
        .exclude(is_paused=is_paused)
        .update(is_paused=is_paused, updated_at=timezone.now())
    )
    letter.is_paused = is_paused
    return bool(changed)


class NothingToPublish(Exception):
    """The letter's text is the same as its latest published version."""


@transaction.atomic
def create_invitation(
    *,
    letter: Letter,
    label: str,
    created_by: User | None,
    max_uses: int | None = None,
    expires_at: datetime | None = None,
) -> Invitation:
    """A new private link to a founding letter, for one invitee (max_uses=1) or a group."""
    return Invitation.objects.create(
        letter=letter,
        label=label,
        nonce=secrets.token_hex(32),
        max_uses=max_uses,
        expires_at=expires_at,
        created_by=created_by,
    )


@transaction.atomic
def revoke_invitations(*, invitation_ids: Iterable[int]) -> int:
    """Stop links from letting anyone in; signatures already made through them stay."""
    return Invitation.objects.filter(pk__in=list(invitation_ids), revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )


def _publish_version(letter: Letter, *, is_major: bool, note: str, by: User | None) -> LetterVersion:
    latest = LetterVersion.objects.filter(letter=letter).order_by("-number").first()
    content_hash = LetterVersion.hash_text(letter.title, letter.body)
    if latest is not None and latest.content_hash == content_hash:
        raise NothingToPublish
    version = LetterVersion.objects.create(
        letter=letter,
        number=latest.number + 1 if latest else 1,
        title=letter.title,
        body=letter.body,
        body_html=letter.body_html,
        content_hash=content_hash,
        # The first text is what everyone signs: a major version by definition.
        is_major=is_major or latest is None,
        change_note=note[:500],
        published_by=by,
    )
    Letter.objects.filter(pk=letter.pk).update(version_count=version.number)
    letter.version_count = version.number
    letter.__dict__.pop("current_version", None)
    letter.__dict__.pop("version_numbers", None)
    return version


def ensure_letter_version(*, letter: Letter) -> LetterVersion:
    """The letter's current published text, publishing its first version if it has none yet."""
    version = organizer_data.current_version(letter)
    if version is not None:
        # The usual case, read without a savepoint of its own: every sign request takes it.
        return version
    return _publish_first_version(letter=letter)


@transaction.atomic
def _publish_first_version(*, letter: Letter) -> LetterVersion:
    # Publishers of the first version queue up on the letter row, but without
    # the key lock: a signer's insert elsewhere checks its foreign key to the
    # letter (FOR KEY SHARE) at commit, and FOR UPDATE here deadlocked with it
    # while the signer held the counter row this transaction was waiting for.
    Letter.objects.select_for_update(no_key=True).filter(pk=letter.pk).first()
    version = LetterVersion.objects.filter(letter=letter).order_by("-number").first()
    if version is not None:  # another transaction published it while we waited
        return version
    return _publish_version(Letter.objects.get(pk=letter.pk), is_major=True, note="", by=None)


@transaction.atomic
def publish_letter_version(*, letter: Letter, is_major: bool, note: str = "", by: User | None = None) -> LetterVersion:
    """
    Publish the letter's current text as a new immutable version. A major
    revision flags every confirmed or approved signature on an earlier text
    and emails its signer the difference with a link to re-affirm or withdraw;
    a minor one (a typo) asks nobody anything.
    """
    letter = Letter.objects.select_for_update().get(pk=letter.pk)
    version = _publish_version(letter, is_major=is_major, note=note, by=by)
    if not version.is_major or version.number == 1:
        return version
    earlier = (
        Signature.objects.filter(letter=letter, state__in=[State.CONFIRMED, State.APPROVED])
        .filter(Q(version__isnull=True) | Q(version__number__lt=version.number))
        .select_related("letter", "version")
        .order_by("pk")
    )
    earlier.update(needs_reaffirmation=True)
    for signature in earlier.iterator(chunk_size=1000):
        emails.send_revision_notice(signature, new_version=version)
    return version


@transaction.atomic
def launch_letter(*, letter: Letter) -> bool:
    """Make a founding letter public: its founding signatures are listed first, after notable ones."""
    letter = Letter.objects.select_for_update().get(pk=letter.pk)
    if letter.status != Letter.Status.FOUNDING:
        return False
    ensure_letter_version(letter=letter)
    letter.status = Letter.Status.OPEN
    letter.save(update_fields=["status", "updated_at"])
    return True


def launch_due_letters() -> list[Letter]:
    """
    Launch every founding letter whose launch time has passed. Readers see
    such a letter as open already (`Letter.objects.public()`); this makes the
    status say so too. Run by `manage.py launch_due_letters` or any scheduler.
    """
    return [letter for letter in Letter.objects.launch_due().order_by("pk") if launch_letter(letter=letter)]


@transaction.atomic
def record_letter_delivery(
    *, letter: Letter, delivered_at: datetime | None, delivered_how: str, by: User | None = None
) -> Letter:
    """Record when and how the letter reached its addressee, with the count and text delivered."""
    letter = Letter.objects.select_for_update().get(pk=letter.pk)
    letter.delivered_at = delivered_at
    letter.delivered_how = delivered_how[:300]
    if delivered_at is None:
        letter.delivered_count = None
        letter.delivered_version = None
    else:
        letter.delivered_count = SignatureCounter.value_for(letter, SignatureCounter.PUBLIC)
        letter.delivered_version = ensure_letter_version(letter=letter)
    letter.save(update_fields=["delivered_at", "delivered_how", "delivered_count", "delivered_version", "updated_at"])
    return letter

"""
Counters (`SignatureCounter`) change in the same transaction as the
signatures they count, so the public count is exact without counting rows.
Every service that changes a signature's state saves it through `save_counted`.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.db.models import Count, F

from signatures.models import (
    Letter,
    Signature,
    SignatureCounter,
)

State = Signature.State


def apply_counter_deltas(letter_id: int, deltas: Counter[str]) -> None:
    # One shard for the whole change, keys in a fixed order: concurrent
    # transactions spread over the shards and never deadlock on them.
    shard = SignatureCounter.random_shard()
    for key in sorted(deltas):
        delta = deltas[key]
        if delta == 0:
            continue
        counter = SignatureCounter.objects.filter(letter_id=letter_id, key=key, shard=shard)
        if counter.update(value=F("value") + delta):
            continue
        try:
            with transaction.atomic():
                SignatureCounter.objects.create(letter_id=letter_id, key=key, shard=shard, value=delta)
        except IntegrityError:
            # Another transaction created the row first.
            counter.update(value=F("value") + delta)


def wait_for_counters(*, letter_id: int, keys: Iterable[str]) -> None:
    """
    Take the row locks that changing these counters would take, and change
    nothing: a path that must last as long as one that counts (no probing by
    the clock) waits behind the same concurrent writers until its commit.
    """
    # One shard, as a writer picks one.
    locked = SignatureCounter.objects.select_for_update().filter(
        letter_id=letter_id, key__in=sorted(keys), shard=SignatureCounter.random_shard()
    )
    list(locked.order_by("key").values_list("pk", flat=True))


class CounterChanges:
    """What a batch of signature changes does to the counters, applied per letter in id order."""

    def __init__(self) -> None:
        self.deltas: defaultdict[int, Counter[str]] = defaultdict(Counter)

    def moved(self, signature: Signature, keys_before: set[str]) -> None:
        """The signature changed state (not yet saved, or saved): from the counters of `keys_before` to its own."""
        keys_after = signature.counter_keys()
        letter_deltas = self.deltas[signature.letter_id]
        letter_deltas.update(dict.fromkeys(keys_after - keys_before, 1))
        letter_deltas.subtract(dict.fromkeys(keys_before - keys_after, 1))

    def removed(self, signature: Signature) -> None:
        """The signature is being deleted: it leaves every counter it was in."""
        self.deltas[signature.letter_id].subtract(dict.fromkeys(signature.counter_keys(), 1))

    def apply(self) -> None:
        for letter_id in sorted(self.deltas):
            apply_counter_deltas(letter_id, self.deltas[letter_id])
        self.deltas.clear()


def save_counted(signature: Signature, keys_before: set[str], update_fields: Iterable[str] | None = None) -> None:
    """Save a signature whose state may have changed, and move it between counters in the same transaction."""
    signature.save(update_fields=update_fields)
    changes = CounterChanges()
    changes.moved(signature, keys_before)
    changes.apply()


def create_counted(signatures: list[Signature]) -> list[Signature]:
    """Insert new signatures in one statement and add them to their counters in the same transaction."""
    for signature in signatures:
        signature.derive_fields()
    created = Signature.objects.bulk_create(signatures)
    changes = CounterChanges()
    for signature in created:
        changes.moved(signature, set())
    changes.apply()
    return created


@transaction.atomic
def recount_letter(*, letter: Letter) -> dict[str, tuple[int, int]]:
    """Recompute a letter's counters from the signatures; return {key: (stored, actual)} for any drift."""
    actual: Counter[str] = Counter()
    # One row per distinct combination of the fields counter_keys reads: a
    # million signatures come back as a few dozen groups.
    groups = (
        Signature.objects.filter(letter=letter)
        .order_by()
        .values("state", "hold_reason", "wants_listing", "profession_id", "rejection_category", "added_by_organizers")
        .annotate(signatures=Count("pk"))
    )
    for group in groups:
        signatures = group.pop("signatures")
        for key in Signature(**group).counter_keys():
            actual[key] += signatures
    stored: Counter[str] = Counter()
    for counter in SignatureCounter.objects.select_for_update().filter(letter=letter).order_by("key", "shard"):
        stored[counter.key] += counter.value
    drift = {}
    for key in sorted(set(stored) | set(actual)):
        if stored[key] != actual[key]:
            drift[key] = (stored[key], actual[key])
            # The whole tally on shard 0, the other shards of the key emptied.
            SignatureCounter.objects.filter(letter=letter, key=key).exclude(shard=0).update(value=0)
            SignatureCounter.objects.update_or_create(letter=letter, key=key, shard=0, defaults={"value": actual[key]})
    return drift

"""
Recompute `name_key` for signatures and watchlist entries now that it drops
apostrophes and turns hyphens into spaces, so "darcy" finds "D'Arcy",
"obrien" "O\u2019Brien" and "kore eda" "Kore-eda" on names signed before the
change too.

As in 0013: both directions carry their own copy of the key function; only
keys the other version would have derived from the row's name are touched;
signatures are walked in ranges of primary keys with `bulk_update`.
"""

from __future__ import annotations

import re
import unicodedata

from django.db import migrations

BATCH = 5000
MAX_LENGTH = 120
_WHITESPACE = re.compile(r"\s+")
_LETTER_FOLDS = str.maketrans(
    {
        "ł": "l",
        "ø": "o",
        "đ": "d",
        "ð": "d",
        "æ": "ae",
        "œ": "oe",
        "þ": "th",
        "\u0131": "i",  # the dotless i (Turkish)
        "ß": "ss",
    }
)


def _without_marks(value: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", value) if not unicodedata.combining(c))


_PUNCTUATION_FOLDS = str.maketrans(
    {
        **dict.fromkeys("'\u2019\u2018\u02bc\u02bb`\u00b4"),
        **dict.fromkeys("-\u2010\u2011\u2012\u2013\u2014", " "),
    }
)


def old_name_key(name: str) -> str:
    folded = _without_marks(name or "").casefold().translate(_LETTER_FOLDS)
    return _WHITESPACE.sub(" ", _without_marks(folded)).strip()[:MAX_LENGTH].rstrip()


def new_name_key(name: str) -> str:
    folded = _without_marks(name or "").casefold().translate(_LETTER_FOLDS).translate(_PUNCTUATION_FOLDS)
    return _WHITESPACE.sub(" ", _without_marks(folded)).strip()[:MAX_LENGTH].rstrip()


def _recompute_signatures(Signature, derive_from, derive_to) -> None:  # noqa: N803 (a historical model)
    last = Signature.objects.order_by("-pk").values_list("pk", flat=True).first()
    if last is None:
        return
    for start in range(0, last + 1, BATCH):
        rows = Signature.objects.filter(pk__gte=start, pk__lt=start + BATCH).only("pk", "full_name", "name_key")
        changed = []
        for row in rows:
            key = derive_to(row.full_name)
            if row.name_key != key and row.name_key == derive_from(row.full_name):
                row.name_key = key
                changed.append(row)
        if changed:
            Signature.objects.bulk_update(changed, ["name_key"], batch_size=1000)


def _recompute_watchlist(WatchlistEntry, derive_from, derive_to) -> None:  # noqa: N803 (a historical model)
    taken = set(WatchlistEntry.objects.values_list("name_key", flat=True))
    for entry in WatchlistEntry.objects.order_by("pk"):
        key = derive_to(entry.name)
        if entry.name_key == key or entry.name_key != derive_from(entry.name):
            continue
        if key in taken:
            # Another entry already watches the same folded name ("OBrien" beside
            # "O'Brien"): this one keeps its key, and the name stays watched.
            continue
        taken.discard(entry.name_key)
        taken.add(key)
        WatchlistEntry.objects.filter(pk=entry.pk).update(name_key=key)


def fold_apostrophes_and_hyphens(apps, schema_editor) -> None:
    _recompute_signatures(apps.get_model("signatures", "Signature"), old_name_key, new_name_key)
    _recompute_watchlist(apps.get_model("signatures", "WatchlistEntry"), old_name_key, new_name_key)


def unfold_apostrophes_and_hyphens(apps, schema_editor) -> None:
    _recompute_signatures(apps.get_model("signatures", "Signature"), new_name_key, old_name_key)
    _recompute_watchlist(apps.get_model("signatures", "WatchlistEntry"), new_name_key, old_name_key)


class Migration(migrations.Migration):
    dependencies = [
        ("signatures", "0022_letter_embed_origins"),
    ]

    operations = [
        migrations.RunPython(fold_apostrophes_and_hyphens, unfold_apostrophes_and_hyphens, elidable=False),
    ]

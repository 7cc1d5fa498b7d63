"""
Keyset (cursor) pagination for the public list.

Page 10,000 of a million signatures costs what page 1 costs: instead of
`OFFSET n`, which makes the database walk and discard n rows, each page asks
for the rows that sort after (or before) the last row shown, which the
partial index `signature_public_list_idx` answers by seeking straight there.

A cursor is the sort key of one row, `Signature.PUBLIC_ORDER`
(is_notable, is_founding, approved_at, id), packed into a short URL-safe
string. It is opaque to readers but stable: the same URL always shows the
rows that follow the same signature, so every page is a permalink.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db.models import F, QuerySet
from django.db.models.fields.tuple_lookups import (
    Tuple,
    TupleGreaterThan,
    TupleLessThan,
)

from signatures.models import Signature

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# The columns of Signature.PUBLIC_ORDER, all descending.
_KEY_FIELDS = ("is_notable", "is_founding", "approved_at", "id")
_ORDER_FORWARD = tuple(f"-{name}" for name in _KEY_FIELDS)
_ORDER_BACKWARD = _KEY_FIELDS
_MAX_CURSOR_LENGTH = 80


@dataclass(frozen=True)
class Cursor:
    is_notable: bool
    is_founding: bool
    approved_at: datetime
    id: int

    @classmethod
    def of(cls, signature: Signature) -> Cursor:
        # Only approved signatures are listed, and every approved one has its time.
        return cls(signature.is_notable, signature.is_founding, signature.approved_at, signature.pk)  # type: ignore[arg-type]

    def encode(self) -> str:
        micros = (self.approved_at - _EPOCH) // timedelta(microseconds=1)
        raw = f"{int(self.is_notable)}{int(self.is_founding)}.{micros}.{self.id}"
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, value: str | None) -> Cursor | None:
        """The cursor a string stands for, or None if it is missing or malformed (a hand-edited URL)."""
        if not value or len(value) > _MAX_CURSOR_LENGTH:
            return None
        try:
            raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode("ascii")
            flags, micros, pk = raw.split(".")
            if len(flags) != 2 or not set(flags) <= {"0", "1"}:
                return None
            return cls(flags[0] == "1", flags[1] == "1", _EPOCH + timedelta(microseconds=int(micros)), int(pk))
        except (binascii.Error, UnicodeDecodeError, ValueError, OverflowError):
            return None

    def as_tuple(self) -> tuple[bool, bool, datetime, int]:
        return (self.is_notable, self.is_founding, self.approved_at, self.id)


def _key() -> Tuple:
    return Tuple(*(F(name) for name in _KEY_FIELDS))


@dataclass
class KeysetPage:
    object_list: list[Signature]
    has_next: bool
    has_previous: bool

    @property
    def next_cursor(self) -> str | None:
        return Cursor.of(self.object_list[-1]).encode() if self.has_next and self.object_list else None

    @property
    def previous_cursor(self) -> str | None:
        return Cursor.of(self.object_list[0]).encode() if self.has_previous and self.object_list else None


def keyset_page(
    queryset: QuerySet[Signature], *, after: Cursor | None = None, before: Cursor | None = None, size: int
) -> KeysetPage:
    """
    One page of `queryset` in public list order: the `size` rows after `after`,
    or the `size` rows just before `before`, or the first `size` rows. One
    query whatever the depth; one more row is read to know if another page follows.
    """
    if before is not None:
        rows = list(
            queryset.filter(TupleGreaterThan(_key(), before.as_tuple())).order_by(*_ORDER_BACKWARD)[: size + 1]
        )
        if rows:
            return KeysetPage(object_list=rows[:size][::-1], has_next=True, has_previous=len(rows) > size)
        # Everything before the cursor has gone (withdrawn, rejected): start again.
        after = None
    if after is not None:
        queryset = queryset.filter(TupleLessThan(_key(), after.as_tuple()))
    rows = list(queryset.order_by(*_ORDER_FORWARD)[: size + 1])
    return KeysetPage(object_list=rows[:size], has_next=len(rows) > size, has_previous=after is not None)


def between_cursors(
    queryset: QuerySet[Signature], *, after: Cursor | None = None, before: Cursor | None = None
) -> QuerySet[Signature]:
    """
    The rows of `queryset` that sort after `after` and before `before`, with
    no page size: the exports take the list page's cursors and stream the rest.
    """
    if after is not None:
        queryset = queryset.filter(TupleLessThan(_key(), after.as_tuple()))
    if before is not None:
        queryset = queryset.filter(TupleGreaterThan(_key(), before.as_tuple()))
    return queryset


# --- A to Z -----------------------------------------------------------------
# The same idea on (name_key, id) ascending: the cursor is the last row's key.
_NAME_FIELDS = ("name_key", "id")
_MAX_NAME_CURSOR_LENGTH = 240


@dataclass(frozen=True)
class NameCursor:
    name_key: str
    id: int

    @classmethod
    def of(cls, signature: Signature) -> NameCursor:
        return cls(signature.name_key, signature.pk)

    def encode(self) -> str:
        return base64.urlsafe_b64encode(f"{self.id}.{self.name_key}".encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, value: str | None) -> NameCursor | None:
        if not value or len(value) > _MAX_NAME_CURSOR_LENGTH:
            return None
        try:
            raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
            pk, key = raw.split(".", 1)
            return cls(key, int(pk))
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return None

    def as_tuple(self) -> tuple[str, int]:
        return (self.name_key, self.id)


@dataclass
class AlphabeticalPage(KeysetPage):
    @property
    def next_cursor(self) -> str | None:
        return NameCursor.of(self.object_list[-1]).encode() if self.has_next and self.object_list else None

    @property
    def previous_cursor(self) -> str | None:
        return NameCursor.of(self.object_list[0]).encode() if self.has_previous and self.object_list else None


def alphabetical_page(
    queryset: QuerySet[Signature], *, after: NameCursor | None = None, before: NameCursor | None = None, size: int
) -> AlphabeticalPage:
    """One page of `queryset` from A to Z by folded name, as `keyset_page` walks the public order."""
    key = Tuple(*(F(name) for name in _NAME_FIELDS))
    if before is not None:
        rows = list(queryset.filter(TupleLessThan(key, before.as_tuple())).order_by("-name_key", "-id")[: size + 1])
        if rows:
            return AlphabeticalPage(object_list=rows[:size][::-1], has_next=True, has_previous=len(rows) > size)
        after = None
    if after is not None:
        queryset = queryset.filter(TupleGreaterThan(key, after.as_tuple()))
    rows = list(queryset.order_by("name_key", "id")[: size + 1])
    return AlphabeticalPage(object_list=rows[:size], has_next=len(rows) > size, has_previous=after is not None)

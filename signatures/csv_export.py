"""Streaming CSV that spreadsheets cannot mistake for formulas."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from typing import Any

# A cell starting with one of these is run as a formula by spreadsheet programs.
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> str:
    """The cell as text, prefixed with an apostrophe if a spreadsheet would treat it as a formula."""
    text = "" if value is None else str(value)
    if text.startswith(_FORMULA_PREFIXES):
        return "'" + text
    return text


class _Echo:
    def write(self, value: str) -> str:
        return value


def stream_csv(header: Iterable[str], rows: Iterable[Iterable[Any]]) -> Iterator[str]:
    """Yield CSV lines one at a time, so memory stays flat however many rows there are."""
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow(list(header))  # BOM: spreadsheets then read UTF-8 correctly
    for row in rows:
        yield writer.writerow([neutralise(cell) for cell in row])

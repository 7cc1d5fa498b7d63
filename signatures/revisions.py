"""Readable differences between two published texts of a letter, for emails and public pages."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from signatures.models import LetterVersion


@dataclass(frozen=True)
class DiffLine:
    kind: str  # "same", "removed" or "added"
    text: str


def _lines(version: LetterVersion | None) -> list[str]:
    if version is None:
        return []
    return [version.title, "", *version.body.splitlines()]


def unified_diff(old: LetterVersion | None, new: LetterVersion) -> str:
    """A plain-text unified diff of title and Markdown body, for the text part of emails."""
    old_name = f"version {old.number}" if old else "unknown earlier text"
    return "\n".join(
        difflib.unified_diff(
            _lines(old), _lines(new), fromfile=old_name, tofile=f"version {new.number}", lineterm="", n=2
        )
    )


def diff_lines(old: LetterVersion | None, new: LetterVersion, *, context: int = 2) -> list[DiffLine | None]:
    """Changed lines with a little context; None marks a gap of unchanged lines left out."""
    rows: list[DiffLine | None] = []
    old_lines, new_lines = _lines(old), _lines(new)
    matcher = difflib.SequenceMatcher(a=old_lines, b=new_lines, autojunk=False)
    for group in matcher.get_grouped_opcodes(context):
        if rows:
            rows.append(None)
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                rows.extend(DiffLine("same", line) for line in old_lines[i1:i2])
                continue
            if tag in ("replace", "delete"):
                rows.extend(DiffLine("removed", line) for line in old_lines[i1:i2])
            if tag in ("replace", "insert"):
                rows.extend(DiffLine("added", line) for line in new_lines[j1:j2])
    return rows

"""Readable differences between two published texts of a letter, for emails and public pages."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from signatures.models import LetterVersion
from signatures.text import render_markdown

_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")
_HEADING = re.compile(r"<h([1-6])>(.*?)</h\1>", re.DOTALL)


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


@dataclass(frozen=True)
class DiffParagraph:
    kind: str  # "same", "removed" or "added"
    html: str  # rendered and cleaned like the letter body


def _paragraphs(version: LetterVersion | None) -> list[str]:
    if version is None:
        return []
    body = [part.strip() for part in _PARAGRAPH_BREAK.split(version.body.replace("\r\n", "\n"))]
    return [f"**{version.title}**", *(part for part in body if part)]


def _readable(source: str) -> str:
    # A heading inside the diff would break the page's outline: shown as bold text instead.
    return _HEADING.sub(r"<p><strong>\2</strong></p>", render_markdown(source))


def diff_paragraphs(old: LetterVersion | None, new: LetterVersion, *, context: int = 1) -> list[DiffParagraph | None]:
    """
    For readers: whole paragraphs removed and added, rendered as the letter
    shows them (no raw Markdown, no "+" lines), with a paragraph of context;
    None marks unchanged paragraphs left out.
    """
    rows: list[DiffParagraph | None] = []
    old_parts, new_parts = _paragraphs(old), _paragraphs(new)
    matcher = difflib.SequenceMatcher(a=old_parts, b=new_parts, autojunk=False)
    for group in matcher.get_grouped_opcodes(context):
        if rows:
            rows.append(None)
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                rows.extend(DiffParagraph("same", _readable(part)) for part in old_parts[i1:i2])
                continue
            if tag in ("replace", "delete"):
                rows.extend(DiffParagraph("removed", _readable(part)) for part in old_parts[i1:i2])
            if tag in ("replace", "insert"):
                rows.extend(DiffParagraph("added", _readable(part)) for part in new_parts[j1:j2])
    return rows

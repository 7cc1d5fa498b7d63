# Look-alike characters in comments and data are the point of this module.
# ruff: noqa: RUF001, RUF002
"""
Would a person reading the public list take a signer's name for someone on
the watchlist? Pure functions over plain strings, no database: the caller
passes the watchlist in as (entry id, display name, aliases).

A name is read the way an eye reads it before it is compared:

- NFKC first, so full-width (Ｓａｍ) and mathematical (𝐒𝐚𝐦) letters become
  the plain letters they are drawn as;
- invisible and format characters (zero-width space, byte-order mark, soft
  hyphen, anything Unicode calls default-ignorable) are dropped, every kind
  of space is a space, accents and every dash and punctuation mark go;
- each word is reduced to its confusable skeleton (Unicode TR #39, from ICU's
  SpoofChecker: Cyrillic 'а' and Latin 'a' share one, so do 'rn' and 'm',
  '0' and 'O', '1', 'l' and 'I'), plus the few letter pairs and digits that
  read as letters and that the skeleton leaves apart ('vv', 'cl', '5' ...);
- titles and post-nominals (Dr., Sir, PhD, OBE ...), descriptors after a
  comma or in brackets ("Sam Altman, CEO", "Sam Altman (OpenAI)") and
  "Family, Given" order are tried off as well as on.

Then the words are compared with each entry's: the same letters once spaces
are gone, the same words in another order, initials for given names, the
entry's words among more names, or (long names only) a near spelling. The
match says which entry and why, in words a moderator reads.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import icu
from rapidfuzz import fuzz

from signatures.text import name_key

# A near spelling is only a match on names of at least this many letters
# (spaces and punctuation excluded) and at or above this similarity (rapidfuzz
# `ratio`, 0-100, on skeletons). 90 lets one changed letter through on ten
# letters and two on twenty, and keeps real, different people apart: "Paul
# McCarthy" against "Paul McCartney" scores 88, "Taylor Smith" against "Taylor
# Swift" 82. Shorter names get no slack at all because one letter there is as
# often another real person ("Sam Altmann", a common German family name,
# against the 9 letters of "Sam Altman"); their look-alikes are still matched.
NEAR_SPELLING_MIN_LETTERS = 10
NEAR_SPELLING_RATIO = 90.0

# Titles and honorifics written before a name, in the major languages, as
# words without their dots (accents are folded before the lookup).
TITLES_BEFORE = (
    "dr", "dra", "drs", "prof", "professor", "profa", "sir", "dame", "lord", "lady", "mr", "mrs", "ms",
    "miss", "mx", "mister", "master", "herr", "frau", "fr", "hr", "mme", "madame", "mlle", "mademoiselle",
    "m", "monsieur", "mons", "sr", "sra", "srta", "senor", "senora", "senorita", "don", "dona", "dom",
    "sig", "sigra", "signor", "signora", "signorina", "dott", "dottssa", "dottoressa", "ing", "arch",
    "avv", "mag", "univ", "rev", "reverend", "fr", "father", "sister", "hon", "honourable", "honorable",
    "rt", "right", "sen", "senator", "judge", "justice", "capt", "captain", "col", "colonel", "gen", "general",
    "maj", "major", "lt", "pan", "pani", "sheikh", "shaikh", "sayyid", "ustad", "pandit", "shri", "sri",
    "smt", "kumari",
)  # fmt: skip
# Post-nominals and suffixes written after a name. Not "ma" (Yo-Yo Ma).
TITLES_AFTER = (
    "phd", "dphil", "md", "dds", "dmd", "jd", "llm", "mba", "msc", "bsc", "ba", "frs", "fba", "frsa",
    "frcp", "jr", "junior", "sr", "senior", "ii", "iii", "iv", "obe", "cbe", "kbe", "gbe", "mbe", "dbe",
    "om", "kc", "qc", "esq", "esquire", "hon", "cav", "dott",
)  # fmt: skip

# Letter pairs that read as one letter. TR #39's skeleton joins 'm' and 'rn'
# (as 'rn'), not the others; all are folded to the one letter so that a name
# with many m's is not longer, to the edit distance, than it looks. Then
# digits and signs that stand in for letters in names.
LETTER_PAIRS = (("rn", "m"), ("vv", "w"), ("cl", "d"))
STAND_INS = str.maketrans({"3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "9": "g", "$": "s", "@": "a", "€": "e"})
APOSTROPHES = "'’‘ʼ`´ʹ′"
# Brackets hold a descriptor; so does what follows a comma or a separator.
BRACKETED = re.compile(r"[(\[{<«][^)\]}>»]*(?:[)\]}>»]|$)")
DASHES = "".join(chr(c) for c in range(0x10000) if unicodedata.category(chr(c)) == "Pd")
SEPARATORS = re.compile(rf"[,;|/:\\·•]|\s[{re.escape(DASHES)}]+\s")
# Compatibility decompositions a reader cannot tell from plain letters.
STYLED_LETTERS = {
    "<wide>": "full-width letters",
    "<font>": "mathematical letters",
    "<circle>": "circled letters",
    "<super>": "superscript letters",
    "<sub>": "subscript letters",
    "<small>": "small letters",
}
IGNORED_SCRIPTS = {"Common", "Inherited", "Unknown"}
# Scripts that are written together in one word by the languages that use them.
MIXING_SCRIPTS = (
    frozenset({"Han", "Hiragana", "Katakana"}),
    frozenset({"Han", "Hangul"}),
    frozenset({"Han", "Bopomofo"}),
)
DEFAULT_IGNORABLE = icu.UnicodeSet("[[:Default_Ignorable_Code_Point:][:Cf:][:Cc:]]")
SPOOF_CHECKER = icu.SpoofChecker()

Entry = tuple[int, str, Sequence[str]]

EXACT, STRUCTURE, NEAR = 0, 1, 2


@dataclass(frozen=True)
class Match:
    """A name a reader could take for a watchlist entry, and why."""

    entry_id: int
    entry_name: str
    # In the words a moderator reads: ("Cyrillic letters",), ("title 'Dr.'", "initials").
    reasons: tuple[str, ...]
    # The alias that matched, when it was not the entry's own name.
    alias: str = ""

    @property
    def reason(self) -> str:
        """'possible match for Sam Altman: Cyrillic letters'"""
        target = f"{self.entry_name} (as '{self.alias}')" if self.alias else self.entry_name
        return f"possible match for {target}: {', '.join(self.reasons)}"


@dataclass(frozen=True)
class Word:
    raw: str
    plain: str  # the project's name_key: case- and accent-free
    # Two skeletons, because TR #39's is case-sensitive: capital 'I' reads as
    # 'l' only before case folding, 'M' as 'rn' only after it.
    forms: tuple[str, str]


@dataclass(frozen=True)
class Reading:
    """One way of reading a name: its words, and what was taken off to get them."""

    words: tuple[Word, ...]
    notes: tuple[str, ...]

    def tokens(self, form: int) -> tuple[str, ...]:
        return tuple(word.forms[form] for word in self.words)

    def plain(self) -> tuple[str, ...]:
        return tuple(word.plain for word in self.words)

    def letters(self) -> int:
        return sum(len(word.plain) for word in self.words)


def watchlist_match(name: str, entries: Iterable[Entry]) -> Match | None:
    """The watchlist entry `name` could be read as (the closest one), or None."""
    readings = read_name(name)
    if not readings:
        return None
    best: tuple[tuple[int, int], Match] | None = None
    for entry_id, display, aliases in entries:
        for written in (display, *aliases):
            alias = written.strip()
            if not alias:
                continue
            for entry_reading in read_name(alias):
                for reading in readings:
                    found = compare(reading, entry_reading)
                    if found is None:
                        continue
                    rank, kinds = found
                    said = character_reasons(name, alias, reading, entry_reading, rank=rank)
                    reasons = (*reading.notes, *kinds, *said)
                    reasons = tuple(dict.fromkeys(reasons)) or ("same name",)
                    score = (rank, len(reasons))
                    if best is None or score < best[0]:
                        match = Match(entry_id, display, reasons, "" if alias == display.strip() else alias)
                        best = (score, match)
    return best[1] if best else None


def mixed_script_reason(name: str) -> str | None:
    """'Cyrillic letters in a Latin name' when one word mixes alphabets; None otherwise."""
    # Letters per script, in the words that mix them.
    counts: dict[str, int] = {}
    for word in re.split(r"[^\w]+|_", unicodedata.normalize("NFKC", name or "")):
        scripts = [script_of(c) for c in word if unicodedata.category(c).startswith("L")]
        scripts = [s for s in scripts if s not in IGNORED_SCRIPTS]
        distinct = set(scripts)
        if len(distinct) > 1 and not any(distinct <= allowed for allowed in MIXING_SCRIPTS):
            for script in scripts:
                counts[script] = counts.get(script, 0) + 1
    if not counts:
        return None
    main = max(counts, key=lambda script: (counts[script], script == "Latin"))
    others = " and ".join(sorted(script for script in counts if script != main))
    return f"{others} letters in a {main} name"


# --- reading a name ------------------------------------------------------------


@lru_cache(maxsize=8192)
def read_name(name: str) -> tuple[Reading, ...]:
    """Every reading of a name worth comparing, the plainest first."""
    text = unicodedata.normalize("NFKC", name or "")
    text = "".join(c for c in text if not DEFAULT_IGNORABLE.contains(c))
    text = "".join(" " if unicodedata.category(c) in ("Zs", "Zl", "Zp") else c for c in text)
    notes: list[str] = []
    for bracketed in BRACKETED.findall(text):
        if words_of(bracketed):
            notes.append(f"descriptor '{bracketed.strip()}'")
    text = BRACKETED.sub(" ", text)
    parts = [part.strip() for part in SEPARATORS.split(text)]
    parts = [part for part in parts if words_of(part)]
    if not parts:
        return ()
    # Post-nominals after a comma ("Sam Altman, PhD") belong to the name.
    while len(parts) > 1 and all(w.forms[1] in TITLE_FORMS_AFTER for w in words_of(parts[-1])):
        parts[-2:] = [f"{parts[-2]} {parts[-1]}"]
    phrases: list[tuple[str, tuple[str, ...]]] = [(" ".join(parts), ())]
    if len(parts) > 1:
        rest = ", ".join(parts[1:])
        phrases.append((parts[0], (f"descriptor '{rest}'",)))
        beyond = (f"descriptor '{', '.join(parts[2:])}'",) if len(parts) > 2 else ()
        phrases.append((f"{parts[1]} {parts[0]}", ("reordered", *beyond)))
    readings: list[Reading] = []
    for phrase, phrase_notes in phrases:
        words = words_of(phrase)
        readings.append(Reading(words, (*notes, *phrase_notes)))
        stripped, titles = without_titles(phrase, words)
        if titles:
            readings.append(Reading(stripped, (*notes, *phrase_notes, *(f"title '{t}'" for t in titles))))
    return tuple(readings)


def words_of(phrase: str) -> tuple[Word, ...]:
    phrase = phrase.translate(STAND_INS)
    # Letters, digits and marks make words; apostrophes join them (O'Connor);
    # every other sign, dashes included, separates them.
    cleaned = "".join(
        c if unicodedata.category(c)[0] in "LNM" or c in APOSTROPHES or c == "." else " " for c in phrase
    )
    words = []
    for raw in cleaned.replace(".", ". ").split():
        bare = "".join(c for c in raw if c not in APOSTROPHES and c != ".")
        if bare:
            words.append(word(raw, bare))
    return tuple(words)


@lru_cache(maxsize=16384)
def word(raw: str, bare: str) -> Word:
    # Letters without a combining mark are folded as name_key folds them
    # ('ð' -> 'd', 'ł' -> 'l'), keeping case for the skeleton; the skeleton
    # itself would turn them into look-alike symbols ('ð' -> '∂').
    unmarked = "".join(name_key(c).upper() if c.isupper() else name_key(c) for c in without_marks(bare))
    case_kept = fold(skeleton(skeleton(unmarked).casefold()))
    return Word(raw=raw, plain=name_key(bare), forms=(case_kept, fold(skeleton(unmarked.casefold()))))


def without_titles(phrase: str, words: tuple[Word, ...]) -> tuple[tuple[Word, ...], list[str]]:
    """The words without leading titles and trailing post-nominals, keeping at least one word."""
    start, end = 0, len(words)
    while end - start > 1 and words[start].forms[1] in TITLE_FORMS_BEFORE:
        start += 1
    while end - start > 1 and words[end - 1].forms[1] in TITLE_FORMS_AFTER:
        end -= 1
    titles = [w.raw for w in (*words[:start], *words[end:])]
    return words[start:end], titles


def skeleton(value: str) -> str:
    return SPOOF_CHECKER.getSkeleton(0, value)


def without_marks(value: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", value) if not unicodedata.combining(c))


def fold(value: str) -> str:
    value = name_key(value).replace(" ", "")
    for pair, letter in LETTER_PAIRS:
        value = value.replace(pair, letter)
    return value


def script_of(char: str) -> str:
    return icu.Script.getScript(char).getName()


TITLE_FORMS_BEFORE = frozenset(fold(skeleton(t)) for t in TITLES_BEFORE)
TITLE_FORMS_AFTER = frozenset(fold(skeleton(t)) for t in TITLES_AFTER)


# --- comparing -------------------------------------------------------------------


def compare(reading: Reading, entry: Reading) -> tuple[int, tuple[str, ...]] | None:
    """How `reading` matches the entry's reading: (rank, reasons), the lower rank the surer."""
    found = None
    for form in (0, 1):
        result = compare_tokens(
            reading.tokens(form), entry.tokens(form), letters=reading.letters(), entry_letters=entry.letters()
        )
        if result is not None and (found is None or result[0] < found[0]):
            found = result
    return found


def compare_tokens(  # noqa: PLR0911 (one return per kind of match reads best)
    name: tuple[str, ...], entry: tuple[str, ...], *, letters: int, entry_letters: int
) -> tuple[int, tuple[str, ...]] | None:
    """Compare words; `letters` count the name's own letters (a skeleton can have more: 'm' -> 'rn')."""
    joined, entry_joined = "".join(name), "".join(entry)
    if not joined or not entry_joined:
        return None
    if joined == entry_joined:
        return EXACT, (() if name == entry else ("joined or split words",))
    if len(entry) > 1 and sorted(name) == sorted(entry):
        return STRUCTURE, ("reordered",)
    if has_initials_for(name, entry):
        return STRUCTURE, ("initials",)
    if len(entry) > 1 and len(name) > len(entry) and is_subsequence(entry, name):
        return STRUCTURE, ("extra names",)
    if 1 < len(name) < len(entry) and name[0] == entry[0] and name[-1] == entry[-1] and is_subsequence(name, entry):
        return STRUCTURE, ("names left out",)
    if min(letters, entry_letters) >= NEAR_SPELLING_MIN_LETTERS:
        if fuzz.ratio(joined, entry_joined) >= NEAR_SPELLING_RATIO:
            return NEAR, ("near spelling",)
        if len(entry) > 1 and fuzz.ratio("".join(sorted(name)), "".join(sorted(entry))) >= NEAR_SPELLING_RATIO:
            return NEAR, ("reordered", "near spelling")
    return None


def has_initials_for(name: tuple[str, ...], entry: tuple[str, ...]) -> bool:
    """'G. del Toro' for 'Guillermo del Toro': given names as initials, the family name in full."""
    if len(name) != len(entry) or len(entry) < 2 or name[-1] != entry[-1]:
        return False
    initials = 0
    for token, full in zip(name[:-1], entry[:-1], strict=True):
        if token == full:
            continue
        # One letter, which a skeleton may have spelled with two ('M' -> 'rn').
        if full.startswith(token) and len(token) < len(full) and len(without_marks(token)) <= 2:
            initials += 1
            continue
        return False
    return initials > 0


def is_subsequence(short: tuple[str, ...], long: tuple[str, ...]) -> bool:
    remaining = iter(long)
    return all(token in remaining for token in short)


# --- saying why -----------------------------------------------------------------


def character_reasons(name: str, alias: str, reading: Reading, entry: Reading, *, rank: int) -> list[str]:
    """What in the characters of `name` (and not of the entry) made it read as the entry."""
    reasons: list[str] = []
    entry_scripts = {script_of(c) for c in unicodedata.normalize("NFKC", alias) if c.isalpha()}
    seen_scripts = {script_of(c) for c in unicodedata.normalize("NFKC", name) if c.isalpha()}
    for script in sorted(seen_scripts - entry_scripts - IGNORED_SCRIPTS):
        reasons.append(f"{script} letters")
    styles = {STYLED_LETTERS.get(unicodedata.decomposition(c).split(" ")[0]) for c in name if c.isalnum()} - {None}
    reasons.extend(sorted(style for style in styles if style))
    if any(DEFAULT_IGNORABLE.contains(c) for c in name):
        reasons.append("invisible characters")
    if any(unicodedata.category(c) in ("Zs", "Zl", "Zp") and c != " " for c in name):
        reasons.append("unusual spaces")
    if any(c.isdigit() for c in name) and not any(c.isdigit() for c in alias):
        reasons.append("digits for letters")
    plain, entry_plain = "".join(reading.plain()), "".join(entry.plain())
    for pair, letter in LETTER_PAIRS:
        if pair in plain and pair not in entry_plain and letter in entry_plain:
            reasons.append(f"'{pair}' for '{letter}'")
    letters = {"letters": reading.letters(), "entry_letters": entry.letters()}
    plainly = compare_tokens(reading.plain(), entry.plain(), **letters)
    if not reasons and (plainly is None or plainly[0] > rank):
        # Matched (this closely) only through skeletons, and none of the above says how.
        reasons.append("look-alike letters")
    return reasons

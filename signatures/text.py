"""Text normalisation and rendering shared by models, forms and services."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import urlsplit

import markdown
import nh3

# Tags and attributes a letter body may use after Markdown rendering.
ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "em", "h2", "h3", "h4", "hr",
    "i", "li", "ol", "p", "pre", "strong", "sub", "sup", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "abbr": {"title"}}
ALLOWED_URL_SCHEMES = {"http", "https", "mailto"}

_WHITESPACE = re.compile(r"\s+")
_HEADING_TAG = re.compile(r"<(/?)h([1-6])(?=[\s>])", re.IGNORECASE)
# An ATX heading on the body's first non-blank line: "# Title", "## Title ##".
_LEADING_HEADING = re.compile(r"\A\s*#{1,6}[ \t]+(.+?)[ \t#]*$", re.MULTILINE)


def _shift_heading(match: re.Match[str]) -> str:
    # The page's h1 is the letter's title: a body's "# Heading" is an h2, and so
    # on down, up to h4 (the deepest level a letter body may use).
    return f"<{match.group(1)}h{min(int(match.group(2)) + 1, 4)}"


def render_markdown(source: str) -> str:
    """Markdown to HTML that cannot run script: raw HTML and unsafe links are removed, headings sit under the h1."""
    html = markdown.markdown(source or "", extensions=["sane_lists", "smarty"], output_format="html")
    html = _HEADING_TAG.sub(_shift_heading, html)
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
    )


def collapse_whitespace(value: str) -> str:
    return _WHITESPACE.sub(" ", value).strip()


def repeats_title(body: str, title: str) -> bool:
    """Whether the body opens with a heading that says the title again (the page shows the title already)."""
    match = _LEADING_HEADING.match(body or "")
    if match is None:
        return False
    return collapse_whitespace(match.group(1)).casefold() == collapse_whitespace(title or "").casefold()


# Letters that are not a base letter plus a combining mark, so stripping marks
# leaves them alone, yet a person searching types the plain Latin letters:
# "lukasz" must find "Łukasz", "odegard" "Ødegård". Keys are casefolded first
# (ß is already "ss" then).
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
# Apostrophes vanish and hyphens become spaces: "darcy" finds "D'Arcy", "obrien"
# "O\u2019Brien" (the curly apostrophe of phone keyboards), "kore eda" "Kore-eda".
_PUNCTUATION_FOLDS = str.maketrans(
    {
        "'": None,
        "\u2019": None,
        "\u2018": None,
        "\u02bc": None,
        "\u02bb": None,
        "`": None,
        "\u00b4": None,
        "-": " ",
        "\u2010": " ",
        "\u2011": " ",
        "\u2012": " ",
        "\u2013": " ",
        "\u2014": " ",
    }
)
# The longest key the name_key columns hold; folding can lengthen a name (æ -> ae).
NAME_KEY_MAX_LENGTH = 120


def _without_marks(value: str) -> str:
    decomposed = unicodedata.normalize("NFKD", value)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def name_key(name: str) -> str:
    """Lowercase, accent-free, single-spaced, Latin-folded, apostrophes dropped: "José  D'ÁVILA" -> 'jose davila'."""
    folded = _without_marks(name or "").casefold().translate(_LETTER_FOLDS).translate(_PUNCTUATION_FOLDS)
    # Casefolding can bring marks back ('İ' -> 'i' + a dot above): strip them again.
    return collapse_whitespace(_without_marks(folded))[:NAME_KEY_MAX_LENGTH].rstrip()


def has_control_characters(value: str) -> bool:
    """True for C0/C1 controls and Unicode format characters such as RTL overrides."""
    return any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co", "Cn") for c in value)


def normalize_email(email: str) -> str:
    """
    The canonical form of an address, used to find duplicates: Unicode NFC,
    trimmed, lowercased (local part too: no real provider treats case as
    distinct, and people type it both ways), then NFC again, because
    lowercasing can undo NFC ("Ϊ" + a combining accent), which would break
    idempotence: normalize_email(normalize_email(x)) == normalize_email(x).

    We deliberately do not fold `+tags` or Gmail dots, nor `ß` into `ss`:
    those are distinct mailboxes on most providers, and guessing wrong would
    merge two people's signatures; a person who signs twice with two tags
    gets two confirmation emails in one inbox and the per-domain and per-IP
    limits still apply.
    """
    value = unicodedata.normalize("NFC", email or "").strip().lower()
    return unicodedata.normalize("NFC", value)


def parse_embed_origins(value: str, *, allow_loopback_http: bool) -> list[str]:
    """
    The origins listed one per line, as a browser writes them in CSP
    (`https://host[:port]`, lowercase, no path), or ValueError naming the bad
    line. Plain http is only for a loopback address, and only when allowed
    (development and tests): a partner page over http could be swapped by
    anyone on its network.
    """
    origins: list[str] = []
    for raw_line in (value or "").splitlines():
        line = raw_line.strip()
        if not line:
            continue
        parts = urlsplit(line)
        try:
            port = parts.port
        except ValueError:
            raise ValueError(line) from None
        host = parts.hostname or ""
        is_loopback = re.fullmatch(r"127(\.\d{1,3}){3}", host) is not None
        if (
            not host
            or parts.path not in ("", "/")
            or parts.query
            or parts.fragment
            or parts.username
            or parts.password
            or not re.fullmatch(r"[a-z0-9.-]+", host)
            or not (parts.scheme == "https" or (parts.scheme == "http" and is_loopback and allow_loopback_http))
        ):
            raise ValueError(line)
        origin = f"{parts.scheme}://{host}" + (f":{port}" if port else "")
        if origin not in origins:
            origins.append(origin)
    return origins

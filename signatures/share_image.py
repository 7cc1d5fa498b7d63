"""The share image: a letter's title, addressee, current count and our site's name drawn as a 1200x630 PNG."""

from __future__ import annotations

import io
import zlib
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.core.cache import cache
from django.utils.formats import number_format
from django.utils.translation import get_language, npgettext
from django.utils.translation import gettext as _
from PIL import Image, ImageDraw, ImageFont

from signatures.models import Letter

WIDTH, HEIGHT = 1200, 630
MARGIN = 80
FONTS = Path(__file__).resolve().parent / "fonts"
PAPER = (251, 250, 246)
INK = (28, 28, 33)
MUTED = (84, 84, 94)
ACCENT = (31, 63, 148)
ACCENT_SOFT = (232, 237, 249)
# A day: the key changes with the count, the text and the language anyway.
CACHE_SECONDS = 24 * 60 * 60


def _font(name: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONTS / name), size)


def _wrap(draw: ImageDraw.ImageDraw, text: str, font: ImageFont.FreeTypeFont, width: int) -> list[str]:
    lines: list[str] = []
    line = ""
    for word in text.split():
        candidate = f"{line} {word}".strip()
        if draw.textlength(candidate, font=font) <= width or not line:
            line = candidate
        else:
            lines.append(line)
            line = word
    if line:
        lines.append(line)
    return lines


def _title_lines(draw: ImageDraw.ImageDraw, title: str) -> tuple[ImageFont.FreeTypeFont, list[str]]:
    """The largest size at which the title fits in three lines (the addressee takes the fourth), else an ellipsis."""
    width = WIDTH - 2 * MARGIN
    for size in (76, 68, 60, 54, 48):
        font = _font("DejaVuSerif-Bold.ttf", size)
        lines = _wrap(draw, title, font, width)
        if len(lines) <= 3:
            return font, lines
    lines = lines[:3]
    lines[-1] = lines[-1].rstrip(".,;: ") + "…"
    return font, lines


def site_name() -> str:
    """The host people would type to find us: what a shared image should carry, more than our software's name."""
    return urlsplit(settings.SITE_URL).hostname or "Undersigned"


def _ellipsized(draw: ImageDraw.ImageDraw, text: str, font: ImageFont.FreeTypeFont, width: int) -> str:
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + "…", font=font) > width:
        text = text[:-1]
    return text.rstrip() + "…"


def render_share_image(letter: Letter) -> bytes:
    image = Image.new("RGB", (WIDTH, HEIGHT), PAPER)
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, 24, HEIGHT), fill=ACCENT)

    small = _font("DejaVuSans.ttf", 28)
    draw.text((MARGIN, MARGIN - 10), _("An open letter").upper(), font=small, fill=MUTED)
    draw.text((WIDTH - MARGIN, MARGIN - 10), site_name(), font=small, fill=ACCENT, anchor="ra")

    title_font, lines = _title_lines(draw, letter.title)
    y = MARGIN + 50
    line_height = int(title_font.size * 1.2)
    for line in lines:
        draw.text((MARGIN, y), line, font=title_font, fill=INK)
        y += line_height
    if letter.addressee:
        addressee_font = _font("DejaVuSans.ttf", 34)
        addressee = _("To %(addressee)s") % {"addressee": letter.addressee}
        draw.text(
            (MARGIN, y + 8),
            _ellipsized(draw, addressee, addressee_font, WIDTH - 2 * MARGIN),
            font=addressee_font,
            fill=MUTED,
        )

    count = letter.public_count
    number = number_format(count, force_grouping=True)
    # A context keeps this counted label apart from the model's singular
    # verbose name "signature", which gettext cannot share with a plural.
    label = npgettext("count on the share image", "signature", "signatures", count)
    number_font = _font("DejaVuSerif-Bold.ttf", 64)
    label_font = _font("DejaVuSans.ttf", 36)
    baseline = HEIGHT - MARGIN
    draw.text((MARGIN, baseline), number, font=number_font, fill=ACCENT, anchor="ls")
    number_width = draw.textlength(number, font=number_font)
    draw.text((MARGIN + number_width + 18, baseline), label, font=label_font, fill=MUTED, anchor="ls")

    if letter.goal:
        bar_top, bar_height = baseline + 20, 14
        right = WIDTH - MARGIN
        draw.rounded_rectangle((MARGIN, bar_top, right, bar_top + bar_height), radius=7, fill=ACCENT_SOFT)
        filled = MARGIN + int((right - MARGIN) * (letter.goal_percent or 0) / 100)
        if filled > MARGIN:
            bar = (MARGIN, bar_top, max(filled, MARGIN + 14), bar_top + bar_height)
            draw.rounded_rectangle(bar, radius=7, fill=ACCENT)

    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def share_image_png(letter: Letter) -> bytes:
    """The PNG for this letter as it stands; cached under a key that changes with the count and text."""
    key = ":".join(
        [
            "share-image",
            str(letter.pk),
            get_language() or "",
            str(letter.public_count),
            str(int(letter.updated_at.timestamp())),
            str(zlib.crc32(f"{letter.title}|{letter.addressee}|{site_name()}".encode())),
        ]
    )
    png = cache.get(key)
    if png is None:
        png = render_share_image(letter)
        cache.set(key, png, CACHE_SECONDS)
    return png

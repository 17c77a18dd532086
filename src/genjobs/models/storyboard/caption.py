"""Text drawn over the video: each shot's caption and the watermark (Pillow, once per shot).

Captions use DejaVu Sans (Debian ``fonts-dejavu-core``), wrapped by measured width; a
long scene is set smaller, then cut with an ellipsis, so the caption never covers more
than the bottom of the frame. Without DejaVu, Pillow's built-in font is used and a
warning says so.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cache

from PIL import Image, ImageDraw, ImageFont

log = logging.getLogger("genjobs.storyboard")

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont
FONT_FILES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",  # Debian / Ubuntu: fonts-dejavu-core
    "DejaVuSans.ttf",  # anywhere FreeType's search path finds it
)
WATERMARK_TEXT = "genjobs preview"
ELLIPSIS = "…"
BAND_ALPHA = 150  # the caption's band: dark enough for white text over any picture
BOTTOM_MARGIN = 0.06  # of the frame height, below the caption


@dataclass(frozen=True)
class Patch:
    """An RGBA picture to lay over the frame with its top-left corner at (x, y)."""

    image: Image.Image
    x: int
    y: int


@cache
def font(size: int) -> Font:
    for candidate in FONT_FILES:
        try:
            return ImageFont.truetype(candidate, size)
        except OSError:
            continue
    log.warning(
        "DejaVu Sans not found (install the Debian package fonts-dejavu-core); "
        "captions use Pillow's built-in font"
    )
    return ImageFont.load_default(size)


def wrap(text: str, face: Font, max_width: float) -> list[str]:
    """Greedy line breaking by measured width; a word wider than a line is split."""
    lines: list[str] = []
    line = ""
    for word in text.split():
        candidate = f"{line} {word}" if line else word
        if face.getlength(candidate) <= max_width:
            line = candidate
            continue
        if line:
            lines.append(line)
        line = word
        while face.getlength(line) > max_width and len(line) > 1:
            cut = _longest_prefix(line, face, max_width)
            lines.append(line[:cut])
            line = line[cut:]
    if line:
        lines.append(line)
    return lines


def _longest_prefix(word: str, face: Font, max_width: float) -> int:
    for cut in range(len(word) - 1, 0, -1):
        if face.getlength(word[:cut]) <= max_width:
            return cut
    return 1


def fit_lines(
    text: str, max_width: float, base_size: int, max_lines: int
) -> tuple[Font, int, list[str]]:
    """The largest size (down to 3/4 of ``base_size``) at which the text fits in
    ``max_lines``; beyond that the last line ends with an ellipsis."""
    smallest = max(8, round(base_size * 0.75))
    for size in range(max(base_size, smallest), smallest - 1, -2):
        face = font(size)
        lines = wrap(text, face, max_width) or [""]
        if len(lines) <= max_lines:
            return face, size, lines
    last = lines[max_lines - 1]
    while last and face.getlength(last + ELLIPSIS) > max_width:
        last = last[:-1].rstrip()
    return face, size, [*lines[: max_lines - 1], last + ELLIPSIS]


def caption_layout(text: str, width: int, height: int) -> tuple[Font, int, list[str]]:
    """Font, size and lines of a caption for a frame of this size."""
    base = max(12, round(min(width, height) / 24))
    max_lines = 3 if width >= height else 5
    return fit_lines(" ".join(text.split()), width * 0.84, base, max_lines)


def caption(text: str, width: int, height: int) -> Patch:
    """White text on a translucent rounded band, centred near the bottom of the frame."""
    face, size, lines = caption_layout(text, width, height)
    pad = max(6, size // 2)
    line_height = round(size * 1.3)
    text_width = max(face.getlength(line) for line in lines)
    band_w = round(text_width) + 2 * pad
    band_h = line_height * len(lines) + 2 * pad - (line_height - size) // 2
    band = Image.new("RGBA", (band_w, band_h), (0, 0, 0, 0))
    draw = ImageDraw.Draw(band)
    draw.rounded_rectangle((0, 0, band_w - 1, band_h - 1), radius=pad, fill=(0, 0, 0, BAND_ALPHA))
    for row, line in enumerate(lines):
        x = (band_w - face.getlength(line)) / 2
        draw.text(
            (x, pad + row * line_height),
            line,
            font=face,
            fill=(255, 255, 255, 255),
            stroke_width=max(1, size // 24),
            stroke_fill=(0, 0, 0, 255),
        )
    return Patch(band, (width - band_w) // 2, height - band_h - round(height * BOTTOM_MARGIN))


def watermark(width: int, height: int) -> Patch:
    """A visible mark in the top-right corner of the watermarked version."""
    size = max(12, round(min(width, height) / 20))
    face = font(size)
    pad = max(4, size // 3)
    text_w = round(face.getlength(WATERMARK_TEXT))
    mark = Image.new("RGBA", (text_w + 2 * pad, size + 2 * pad), (0, 0, 0, 0))
    draw = ImageDraw.Draw(mark)
    draw.rounded_rectangle(
        (0, 0, mark.width - 1, mark.height - 1), radius=pad, fill=(255, 255, 255, 90)
    )
    draw.text(
        (pad, pad),
        WATERMARK_TEXT,
        font=face,
        fill=(255, 255, 255, 235),
        stroke_width=max(1, size // 18),
        stroke_fill=(0, 0, 0, 200),
    )
    margin = round(min(width, height) * 0.03)
    return Patch(mark, width - mark.width - margin, margin)

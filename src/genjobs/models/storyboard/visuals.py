"""Pictures for the animatic: backdrops, camera moves, captions and the watermark (Pillow)."""

from __future__ import annotations

import hashlib
import logging
import math
import random
import textwrap
from dataclasses import dataclass
from functools import cache

from PIL import Image, ImageDraw, ImageFilter, ImageFont, ImageOps

log = logging.getLogger("genjobs.storyboard")
MARGIN = 1.25  # the source is this much larger than the frame, room for the camera to move
FONT_PATHS = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
)
CAPTION_MAX_LINES = 4


@cache
def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for path in FONT_PATHS:
        try:
            return ImageFont.truetype(path, size)
        except OSError:
            continue
    log.warning("DejaVu Sans not found (Debian: fonts-dejavu-core); captions use PIL's font")
    return ImageFont.load_default(size)


def seeded(text: str, index: int) -> random.Random:
    digest = hashlib.sha256(f"{index}:{text}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def cover(image: Image.Image, width: int, height: int) -> Image.Image:
    """Scale and centre-crop ``image`` to exactly width x height."""
    return ImageOps.fit(image.convert("RGB"), (width, height), Image.Resampling.LANCZOS)


def backdrop(scene: str, index: int, width: int, height: int) -> Image.Image:
    """A generated backdrop seeded by the scene text: a two-colour gradient with soft shapes."""
    rng = seeded(scene, index)
    small_w, small_h = max(64, width // 8), max(64, height // 8)

    def colour() -> tuple[int, int, int]:
        hue = rng.random()
        return tuple(
            int(255 * c) for c in _hsv(hue, 0.55 + 0.3 * rng.random(), 0.35 + 0.5 * rng.random())
        )  # type: ignore[return-value]

    top, bottom = colour(), colour()
    gradient = Image.linear_gradient("L").resize((small_w, small_h))
    image = Image.composite(
        Image.new("RGB", (small_w, small_h), bottom),
        Image.new("RGB", (small_w, small_h), top),
        gradient,
    )
    draw = ImageDraw.Draw(image, "RGBA")
    for _ in range(6):
        radius = rng.uniform(0.1, 0.35) * small_h
        x, y = rng.uniform(0, small_w), rng.uniform(0, small_h)
        draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=(*colour(), 110))
    image = image.filter(ImageFilter.GaussianBlur(small_h / 30))
    return image.resize((width, height), Image.Resampling.BICUBIC)


def _hsv(h: float, s: float, v: float) -> tuple[float, float, float]:
    i = int(h * 6) % 6
    f = h * 6 - math.floor(h * 6)
    p, q, t = v * (1 - s), v * (1 - f * s), v * (1 - (1 - f) * s)
    return [(v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q)][i]


@dataclass(frozen=True)
class CameraMove:
    """A Ken Burns move over a source of (W*MARGIN) x (H*MARGIN): zoom and pan, eased."""

    width: int
    height: int
    zoom_from: float
    zoom_to: float
    centre_from: tuple[float, float]
    centre_to: tuple[float, float]

    @classmethod
    def for_shot(cls, scene: str, index: int, width: int, height: int) -> CameraMove:
        rng = seeded(scene, index)
        zoom_in = index % 2 == 0
        near, far = 1.0, 1.0 + rng.uniform(0.12, 0.22)  # stays below MARGIN: a downscale
        zooms = (near, far) if zoom_in else (far, near)

        def centre(zoom: float) -> tuple[float, float]:
            # Keep the window inside the source at this zoom.
            window_w, window_h = width * MARGIN / zoom, height * MARGIN / zoom
            free_x, free_y = width * MARGIN - window_w, height * MARGIN - window_h
            return (
                window_w / 2 + rng.uniform(0.1, 0.9) * free_x,
                window_h / 2 + rng.uniform(0.1, 0.9) * free_y,
            )

        return cls(width, height, zooms[0], zooms[1], centre(zooms[0]), centre(zooms[1]))

    def window(self, t: float) -> tuple[float, float, float, float]:
        """The source rectangle (left, top, right, bottom; sub-pixel) seen at time t (0..1)."""
        eased = t * t * (3 - 2 * t)
        zoom = self.zoom_from + (self.zoom_to - self.zoom_from) * eased
        cx = self.centre_from[0] + (self.centre_to[0] - self.centre_from[0]) * eased
        cy = self.centre_from[1] + (self.centre_to[1] - self.centre_from[1]) * eased
        half_w, half_h = self.width * MARGIN / zoom / 2, self.height * MARGIN / zoom / 2
        return (cx - half_w, cy - half_h, cx + half_w, cy + half_h)


@dataclass(frozen=True)
class Overlay:
    """An RGB patch with its alpha mask, to be placed at ``box`` (left, top)."""

    image: Image.Image
    mask: Image.Image
    box: tuple[int, int]


def caption(text: str, width: int, height: int) -> Overlay:
    """The scene text, wrapped, white on a translucent band at the bottom of the frame."""
    size = max(14, round(min(width, height) / 24))
    face = font(size)
    max_width = int(width * 0.86)
    chars = max(10, int(max_width / (size * 0.55)))
    lines = textwrap.wrap(" ".join(text.split()), chars)
    if len(lines) > CAPTION_MAX_LINES:
        lines = [
            *lines[: CAPTION_MAX_LINES - 1],
            textwrap.shorten(" ".join(lines[3:]), chars - 1, placeholder="…"),
        ]
    line_h = int(size * 1.3)
    pad = size // 2
    band_w = max_width + 2 * pad
    band_h = line_h * len(lines) + 2 * pad
    band = Image.new("RGBA", (band_w, band_h), (0, 0, 0, 0))
    draw = ImageDraw.Draw(band)
    draw.rounded_rectangle((0, 0, band_w - 1, band_h - 1), radius=pad, fill=(0, 0, 0, 150))
    for row, line in enumerate(lines):
        line_w = draw.textlength(line, font=face)
        draw.text(
            ((band_w - line_w) / 2, pad + row * line_h), line, font=face, fill=(255, 255, 255, 255)
        )
    box = ((width - band_w) // 2, height - band_h - int(height * 0.05))
    return Overlay(band.convert("RGB"), band.getchannel("A"), box)


def watermark(width: int, height: int) -> Overlay:
    """A visible mark in the top-right corner of the watermarked version."""
    size = max(14, round(min(width, height) / 18))
    face = font(size)
    text = "genjobs preview"
    probe = ImageDraw.Draw(Image.new("RGBA", (1, 1)))
    text_w = int(probe.textlength(text, font=face))
    pad = size // 3
    mark = Image.new("RGBA", (text_w + 2 * pad, size + 3 * pad), (0, 0, 0, 0))
    draw = ImageDraw.Draw(mark)
    draw.rounded_rectangle(
        (0, 0, mark.width - 1, mark.height - 1), radius=pad, fill=(255, 255, 255, 90)
    )
    draw.text(
        (pad, pad),
        text,
        font=face,
        fill=(255, 255, 255, 235),
        stroke_width=2,
        stroke_fill=(0, 0, 0, 200),
    )
    box = (width - mark.width - int(width * 0.03), int(height * 0.03))
    return Overlay(mark.convert("RGB"), mark.getchannel("A"), box)

"""The reference image: checked by its decoded content, fitted and converted once.

The URL's extension and the server's content type prove nothing, so the format Pillow
actually detects decides (jpeg, png or webp), and the pixel count is checked before
decoding so a small file cannot unpack into gigabytes.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from genjobs.models.storyboard.camera import WIDEST
from genjobs.models.storyboard.resample import PAD
from genjobs.models.storyboard.yuv import YuvFrame
from genjobs.runtime.model import TaskFailed

MAX_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 50_000_000  # 8K is 33 MP; beyond this a 10 MB file is a decompression bomb
# Pillow opens a camera MPO file through its JPEG plugin (and reports format "MPO").
OPENED_AS = ["JPEG", "PNG", "WEBP"]
# A source may be this much longer than the frame needs along one axis (a landscape
# picture in a portrait video): the camera pans across it instead of cropping it away.
MAX_EXTRA_LENGTH = 1.8
BACKGROUND = (16, 16, 16)  # behind transparent pixels
EXIF_ORIENTATION = 0x0112


def load_reference(
    path: Path, frame_w: int, frame_h: int, label: str = "image_urls[0]"
) -> Image.Image:
    """The picture as RGB, or ``TaskFailed("invalid_image", ...)`` saying what is wrong."""
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise TaskFailed("invalid_image", f"{label} is {size} bytes; the limit is 10 MB")
    try:
        with Image.open(path, formats=OPENED_AS) as image:
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise TaskFailed(
                    "invalid_image",
                    f"{label} is {width}x{height} pixels; the limit is {MAX_PIXELS} pixels",
                )
            # JPEG only: decode at 1/2 .. 1/8 scale when that still covers what is needed
            # (in stored orientation: EXIF orientations 5-8 turn the picture by 90 degrees).
            turned = image.getexif().get(EXIF_ORIENTATION, 1) in (5, 6, 7, 8)
            need = (frame_h, frame_w) if turned else (frame_w, frame_h)
            image.draft("RGB", source_size(width, height, *need))
            image.load()
            picture = ImageOps.exif_transpose(image)
    except UnidentifiedImageError as exc:
        raise TaskFailed("invalid_image", f"{label} is not a jpeg, png or webp image") from exc
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise TaskFailed("invalid_image", f"{label} could not be decoded: {exc}") from exc
    return flatten(picture)


def flatten(image: Image.Image) -> Image.Image:
    """RGB, with any transparency laid over a dark background."""
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, BACKGROUND)
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    return image.convert("RGB")


def source_size(width: int, height: int, frame_w: int, frame_h: int) -> tuple[int, int]:
    """Even size covering the frame at the camera's widest view, the picture's aspect kept
    (up to MAX_EXTRA_LENGTH times longer than needed along one axis)."""
    need_w, need_h = frame_w * WIDEST, frame_h * WIDEST
    scale = max(need_w / width, need_h / height)
    fit_w = min(width * scale, need_w * MAX_EXTRA_LENGTH)
    fit_h = min(height * scale, need_h * MAX_EXTRA_LENGTH)
    return 2 * math.ceil(fit_w / 2), 2 * math.ceil(fit_h / 2)


def centred_crop(width: int, height: int, aspect: float) -> tuple[float, float, float, float]:
    """The largest centred box of the given aspect ratio."""
    if width / height > aspect:
        crop_w = height * aspect
        return ((width - crop_w) / 2, 0.0, (width + crop_w) / 2, float(height))
    crop_h = width / aspect
    return (0.0, (height - crop_h) / 2, float(width), (height + crop_h) / 2)


def prepare_source(image: Image.Image, frame_w: int, frame_h: int) -> YuvFrame:
    """The picture fitted for the camera, padded by repeated edges, as YUV 4:2:0 planes."""
    width, height = source_size(image.width, image.height, frame_w, frame_h)
    fitted = image.resize(
        (width, height),
        Image.Resampling.LANCZOS,
        box=centred_crop(image.width, image.height, width / height),
        reducing_gap=3.0,  # a big photo is first box-reduced: 10x faster, same result
    )
    padded = np.pad(np.asarray(fitted), ((PAD, PAD), (PAD, PAD), (0, 0)), mode="edge")
    return YuvFrame.from_image(Image.fromarray(padded))


def unpadded_size(source: YuvFrame) -> tuple[int, int]:
    return source.width - 2 * PAD, source.height - 2 * PAD

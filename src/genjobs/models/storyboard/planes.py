"""Pictures as YUV 4:2:0 planes, the encoder's own format.

Drawing frames directly as Y, U and V planes halves the resampling work (1.5 bytes a pixel
instead of 3) and spares every encoder an RGB to YUV conversion per frame. Colours are
converted once per source, caption and watermark with swscale, the conversion the encoder
would otherwise apply.
"""

from __future__ import annotations

from dataclasses import dataclass

import av
import numpy as np
from PIL import Image

from genjobs.models.storyboard.visuals import CameraMove, Overlay


@dataclass(frozen=True)
class Planes:
    y: Image.Image  # full size, mode L
    u: Image.Image  # half width and height
    v: Image.Image

    @classmethod
    def from_rgb(cls, image: Image.Image) -> Planes:
        """Width and height must be multiples of 4 (4:2:0 planes stacked as full rows)."""
        frame = av.VideoFrame.from_image(image.convert("RGB"))  # type: ignore[no-untyped-call]
        stacked = frame.reformat(format="yuv420p").to_ndarray()
        height, width = image.height, image.width
        quarter = height // 4
        u = stacked[height : height + quarter].reshape(height // 2, width // 2)
        v = stacked[height + quarter :].reshape(height // 2, width // 2)
        return cls(Image.fromarray(stacked[:height]), Image.fromarray(u), Image.fromarray(v))

    def stacked(self) -> np.ndarray:
        """The I420 layout PyAV takes for yuv420p: Y rows, then U and V as full-width rows."""
        width = self.y.width
        return np.concatenate(
            [
                np.asarray(self.y),
                np.asarray(self.u).reshape(-1, width),
                np.asarray(self.v).reshape(-1, width),
            ]
        )

    def to_rgb(self) -> Image.Image:
        frame = av.VideoFrame.from_ndarray(self.stacked(), format="yuv420p")
        image: Image.Image = frame.to_image()  # type: ignore[no-untyped-call]
        return image


def view(source: Planes, move: CameraMove, t: float) -> Planes:
    """The camera's view at time t: the same sub-pixel box on every plane (halved for U, V)."""
    left, top, right, bottom = move.window(t)
    full, half = (move.width, move.height), (move.width // 2, move.height // 2)
    half_box = (left / 2, top / 2, right / 2, bottom / 2)
    box = Image.Resampling.BOX  # a true area average: the window is always a downscale
    return Planes(
        source.y.resize(full, box, box=(left, top, right, bottom)),
        source.u.resize(half, box, box=half_box),
        source.v.resize(half, box, box=half_box),
    )


def blend(first: Planes, second: Planes, mix: float) -> Planes:
    return Planes(
        Image.blend(first.y, second.y, mix),
        Image.blend(first.u, second.u, mix),
        Image.blend(first.v, second.v, mix),
    )


@dataclass(frozen=True)
class PlanesOverlay:
    """An overlay (caption, watermark) converted once, pasted per frame on all planes."""

    planes: Planes
    mask: Image.Image
    half_mask: Image.Image
    box: tuple[int, int]

    @classmethod
    def from_overlay(cls, overlay: Overlay) -> PlanesOverlay:
        width, height = overlay.image.size
        even = (width + -width % 4, height + -height % 4)
        image = Image.new("RGB", even)
        image.paste(overlay.image)
        mask = Image.new("L", even)
        mask.paste(overlay.mask)
        half = (even[0] // 2, even[1] // 2)
        x, y = overlay.box
        return cls(
            Planes.from_rgb(image),
            mask,
            mask.resize(half, Image.Resampling.BOX),
            (x - x % 2, y - y % 2),
        )

    def apply(self, frame: Planes) -> None:
        x, y = self.box
        frame.y.paste(self.planes.y, (x, y), self.mask)
        frame.u.paste(self.planes.u, (x // 2, y // 2), self.half_mask)
        frame.v.paste(self.planes.v, (x // 2, y // 2), self.half_mask)

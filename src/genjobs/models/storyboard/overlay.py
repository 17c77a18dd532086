"""Overlays (captions, the watermark) converted once to premultiplied YUV 4:2:0 and
blended into each frame in place, touching only their own rectangle.

Per frame and plane: ``out = (frame * keep + add) >> 8`` in uint16, with ``keep`` the
8.8 fixed-point transparency and ``add`` the premultiplied colour. Chroma is subsampled
premultiplied (colour times alpha averaged over 2x2), which keeps edges free of fringes.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from genjobs.models.storyboard.caption import Patch
from genjobs.models.storyboard.yuv import YuvFrame, rgb_to_yuv

Weights = NDArray[np.uint16]


def _halve(values: NDArray[np.float32]) -> NDArray[np.float32]:
    """2x2 average (sizes are even)."""
    return (values[0::2, 0::2] + values[1::2, 0::2] + values[0::2, 1::2] + values[1::2, 1::2]) / 4.0


class Overlay:
    def __init__(self, patch: Patch, frame_w: int, frame_h: int) -> None:
        rgba = np.asarray(patch.image.convert("RGBA"), dtype=np.float32)
        # Even position and size, clipped to the frame: 4:2:0 planes cover 2x2 pixels.
        x, y = patch.x - patch.x % 2, patch.y - patch.y % 2
        rgba = np.pad(rgba, ((patch.y - y, 0), (patch.x - x, 0), (0, 0)))
        rgba = rgba[: max(0, frame_h - y), : max(0, frame_w - x)]
        rgba = rgba[max(0, -y) :, max(0, -x) :]
        x, y = max(0, x), max(0, y)
        height, width = rgba.shape[0] // 2 * 2, rgba.shape[1] // 2 * 2
        rgba = rgba[:height, :width]
        self.x, self.y, self.width, self.height = x, y, width, height

        alpha = rgba[..., 3] * (256.0 / 255.0)  # 0..256: full cover keeps nothing
        luma, blue, red = rgb_to_yuv(rgba[..., :3])
        chroma_alpha = _halve(alpha)
        self._keep = (
            _weights(256.0 - alpha),
            _weights(256.0 - chroma_alpha),
            _weights(256.0 - chroma_alpha),
        )
        self._add = (
            _weights(luma * alpha + 128.0),
            _weights(_halve(blue * alpha) + 128.0),
            _weights(_halve(red * alpha) + 128.0),
        )
        self._scratch = tuple(np.empty(keep.shape, np.uint16) for keep in self._keep)

    def apply(self, frame: YuvFrame) -> None:
        if not self.width or not self.height:
            return
        for index, plane in enumerate(frame.planes):
            unit = 1 if index == 0 else 2
            region = plane[
                self.y // unit : (self.y + self.height) // unit,
                self.x // unit : (self.x + self.width) // unit,
            ]
            scratch = self._scratch[index]
            np.multiply(region, self._keep[index], out=scratch)
            scratch += self._add[index]
            scratch >>= np.uint16(8)
            np.copyto(region, scratch, casting="unsafe")


def _weights(values: NDArray[np.floating[Any]]) -> Weights:
    return np.clip(np.round(values), 0, 65535).astype(np.uint16)

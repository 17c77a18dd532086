"""Frames in the encoder's own format: YUV 4:2:0, BT.709, limited range.

Frames are drawn straight into the planes of ``av.VideoFrame`` objects (through writable
numpy views), so a frame reaches the encoders with no RGB conversion and no extra copy.
Mixing uses 8.8 fixed point on uint16: four numpy passes, no float arrays.
"""

from __future__ import annotations

import av
import numpy as np
from av.video.reformatter import ColorRange, Colorspace
from numpy.typing import NDArray
from PIL import Image

Plane = NDArray[np.uint8]
COLORSPACE = Colorspace.ITU709  # HD video: players assume BT.709, and the stream says so
RANGE = ColorRange.MPEG  # limited ("TV") range, what H.264 players expect


def plane_views(frame: av.VideoFrame) -> tuple[Plane, Plane, Plane]:
    """Writable views of the Y, U and V planes (without the rows' alignment padding)."""
    views = []
    for index, plane in enumerate(frame.planes):
        width = frame.width if index == 0 else (frame.width + 1) // 2
        rows = np.frombuffer(memoryview(plane), np.uint8).reshape(plane.height, plane.line_size)
        views.append(rows[:, :width])
    return views[0], views[1], views[2]


class YuvFrame:
    """A yuv420p ``av.VideoFrame`` with its planes as numpy arrays (even sizes only)."""

    __slots__ = ("frame", "u", "v", "y")

    def __init__(self, frame: av.VideoFrame) -> None:
        self.frame = frame
        self.y, self.u, self.v = plane_views(frame)

    @classmethod
    def new(cls, width: int, height: int) -> YuvFrame:
        return cls(av.VideoFrame(width, height, "yuv420p"))

    @classmethod
    def from_image(cls, image: Image.Image) -> YuvFrame:
        """Convert an RGB picture once (swscale, BT.709 limited range)."""
        rgb = av.VideoFrame.from_image(image.convert("RGB"))  # type: ignore[no-untyped-call]
        return cls(
            rgb.reformat(
                format="yuv420p",
                dst_colorspace=COLORSPACE,
                dst_color_range=RANGE,
                interpolation="BICUBIC",
                threads=1,
            )
        )

    @property
    def width(self) -> int:
        return int(self.frame.width)

    @property
    def height(self) -> int:
        return int(self.frame.height)

    @property
    def planes(self) -> tuple[Plane, Plane, Plane]:
        return self.y, self.u, self.v

    def copy(self) -> YuvFrame:
        twin = YuvFrame.new(self.width, self.height)
        for target, source in zip(twin.planes, self.planes, strict=True):
            np.copyto(target, source)
        return twin

    def mix(self, other: YuvFrame, weight: float) -> None:
        """In place: this frame becomes (1 - weight) * this + weight * other."""
        theirs = np.uint16(round(weight * 256))
        ours = np.uint16(256) - theirs
        for mine, their in zip(self.planes, other.planes, strict=True):
            total = np.multiply(mine, ours, dtype=np.uint16)
            total += np.multiply(their, theirs, dtype=np.uint16)
            total += np.uint16(128)
            total >>= np.uint16(8)
            np.copyto(mine, total, casting="unsafe")

    def to_image(self) -> Image.Image:
        rgb = self.frame.reformat(
            format="rgb24",
            src_colorspace=COLORSPACE,
            src_color_range=RANGE,
            dst_color_range=ColorRange.JPEG,
            threads=1,
        )
        image: Image.Image = rgb.to_image()  # type: ignore[no-untyped-call]
        return image


def rgb_to_yuv(rgb: NDArray[np.floating]) -> tuple[NDArray[np.float32], ...]:
    """BT.709 limited-range Y, U, V (floats, 0..255 scale) of RGB values (0..255)."""
    r, g, b = (rgb[..., channel].astype(np.float32) / 255.0 for channel in range(3))
    luma = 0.2126 * r + 0.7152 * g + 0.0722 * b
    y = 16.0 + 219.0 * luma
    u = 128.0 + 224.0 * (b - luma) / 1.8556
    v = 128.0 + 224.0 * (r - luma) / 1.5748
    return y, u, v

"""Sub-pixel camera views with swscale: crop at whole pixels, scale, crop again.

swscale (FFmpeg's SIMD scaler) is 4-5x cheaper than Pillow's resampling, but it maps a
whole input onto a whole output: it cannot start at a fractional source position. The
two integer crops give it that: cropping the source at column ``x0``, scaling ``w_in``
columns to ``w_out`` and dropping the first ``c`` output columns shows source position

    x0 + (j + c + 0.5) * w_in / w_out        for output column j (pixel centres).

The wanted view is ``left + (j + 0.5) * span / out``. Among a few thousand (x0, c, w_in,
w_out) candidates the one with the smallest worst-case error at the view's two edges is
chosen: typically a few hundredths of a pixel, at most about a fifth of a pixel in the
camera's scale range (it is worse near a scale of 1, which camera.py stays away from). So
a slow pan glides instead of stepping a whole pixel at a time as ffmpeg's zoompan does.

Everything is in 2-pixel units ("chroma units") so the U and V planes (half size in
4:2:0) are cropped at whole pixels too.
"""

from __future__ import annotations

from dataclasses import dataclass

import av
import numpy as np
from av.video.reformatter import VideoReformatter

from genjobs.models.storyboard.camera import Window
from genjobs.models.storyboard.yuv import YuvFrame

# Sources carry this many pixels of repeated edge on every side: the candidates may start
# up to MAX_CROP * 2 * WIDEST pixels before the window and the scaler's taps reach past it.
PAD = 160
MAX_CROP = 48  # chroma units of scaled output that may be cropped away at the start
MAX_EXTRA = 16  # chroma units of scaled output beyond the end
_CROPS = np.arange(MAX_CROP + 1, dtype=np.float64)[:, None, None]
_EXTRAS = np.arange(MAX_EXTRA + 1, dtype=np.float64)[None, :, None]
_NUDGES = np.array([-1.0, 0.0, 1.0])[None, None, :]


@dataclass(frozen=True)
class AxisPlan:
    """One axis of a view, in chroma units (2 pixels)."""

    start: int  # first source unit cropped
    size_in: int  # source units scaled
    size_out: int  # scaled units
    crop: int  # scaled units dropped before the view begins
    error: float  # worst position error at the view's edges, in pixels


def plan_axis(origin: float, span: float, out: int, source_len: int) -> AxisPlan:
    """The crop-scale-crop that shows ``span`` source pixels from ``origin`` on ``out``
    pixels (``out`` even); the source is ``source_len`` pixels long, padding included."""
    ratio = span / out
    size_out = out // 2 + _CROPS + _EXTRAS
    size_in = np.round(size_out * ratio) + _NUDGES
    achieved = size_in / size_out
    start = np.round((origin - 2.0 * _CROPS * achieved) / 2.0)
    offset = 2.0 * start + 2.0 * _CROPS * achieved - origin
    first = offset + 0.5 * (achieved - ratio)  # error at output pixel 0
    last = offset + (out - 0.5) * (achieved - ratio)  # ... and at the last one
    error = np.maximum(np.abs(first), np.abs(last))
    fits = (start >= 0) & (2.0 * (start + size_in) <= source_len) & (size_in >= 1)
    error = np.where(fits, error, np.inf)
    best = np.unravel_index(int(np.argmin(error)), error.shape)
    if not np.isfinite(error[best]):
        raise ValueError(f"no crop of a {source_len}-pixel source shows {span} from {origin}")
    crop = best[0]
    return AxisPlan(
        start=int(start[best]),
        size_in=int(size_in[best]),
        size_out=int(out // 2 + crop + best[1]),
        crop=int(crop),
        error=float(error[best]),
    )


class Resampler:
    """Draws camera views of padded sources into frames; one per thread (it keeps the
    swscale context, which is reused whenever consecutive views have the same sizes)."""

    def __init__(self) -> None:
        self._reformatter = VideoReformatter()

    def view(self, source: YuvFrame, window: Window, into: YuvFrame) -> None:
        """Draw ``window`` (in unpadded source pixels) of ``source`` (padded by PAD)."""
        across = plan_axis(PAD + window.left, window.width, into.width, source.width)
        down = plan_axis(PAD + window.top, window.height, into.height, source.height)
        crop = YuvFrame.new(2 * across.size_in, 2 * down.size_in)
        for target, plane, unit in zip(crop.planes, source.planes, (2, 1, 1), strict=True):
            rows = slice(unit * down.start, unit * (down.start + down.size_in))
            columns = slice(unit * across.start, unit * (across.start + across.size_in))
            np.copyto(target, plane[rows, columns])
        scaled: av.VideoFrame = self._reformatter.reformat(
            crop.frame,
            2 * across.size_out,
            2 * down.size_out,
            interpolation="BILINEAR",  # widened for downscales: area-averaging, no aliasing
            threads=1,  # threaded swscale re-creates its pool per size change: slower here
        )
        for target, plane, unit in zip(
            into.planes, YuvFrame(scaled).planes, (2, 1, 1), strict=True
        ):
            rows = slice(unit * down.crop, unit * down.crop + target.shape[0])
            columns = slice(unit * across.crop, unit * across.crop + target.shape[1])
            np.copyto(target, plane[rows, columns])

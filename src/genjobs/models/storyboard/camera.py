"""Camera moves (Ken Burns): which rectangle of the source each frame of a shot shows.

Sources are prepared at least ``WIDEST`` times the frame size, so the camera always
downscales (no soft upscaled pixels) and has room to move. A move is a scale path (source
pixels per output pixel, interpolated geometrically so a zoom looks uniform) and a path of
the window's position within the free room (0..1 per axis, so the window never leaves the
source). Consecutive shots get different kinds of move. Pure Python: no heavy imports.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass

WIDEST = 1.22
# Closest view. The range stays clear of a scale of 1.0, where sub-pixel positions are
# out of reach of the crop-and-scale resampler (see resample.py).
CLOSEST = 1.06
KINDS = ("zoom_in", "pan", "zoom_out", "drift")


def seeded(text: str, index: int) -> random.Random:
    """A random stream that is the same for the same scene text at the same position."""
    digest = hashlib.sha256(f"{index}:{text}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


@dataclass(frozen=True)
class Window:
    """A rectangle of the source in source pixels (sub-pixel: floats)."""

    left: float
    top: float
    width: float
    height: float


@dataclass(frozen=True)
class CameraMove:
    kind: str
    scale_from: float
    scale_to: float
    position_from: tuple[float, float]
    position_to: tuple[float, float]

    @classmethod
    def for_shot(cls, scene: str, index: int) -> CameraMove:
        rng = seeded(scene, index)
        kind = KINDS[index % len(KINDS)]
        near = CLOSEST + rng.uniform(0.0, 0.03)
        point = (rng.uniform(0.25, 0.75), rng.uniform(0.25, 0.75))
        centre = (0.5, 0.5)
        if kind == "zoom_in":
            return cls(kind, WIDEST, near, centre, point)
        if kind == "zoom_out":
            return cls(kind, near, WIDEST, point, centre)
        if kind == "pan":
            scale = rng.uniform(1.08, 1.13)
            along = rng.uniform(0.4, 0.6)
            ends = [(0.1, along), (0.9, 1.0 - along)]
            if rng.random() < 0.5:
                ends.reverse()
            return cls(kind, scale, scale, ends[0], ends[1])
        corners = [(0.2, 0.25), (0.8, 0.75)]
        if rng.random() < 0.5:
            corners = [(0.8, 0.25), (0.2, 0.75)]
        return cls(kind, 1.18, 1.10, corners[0], corners[1])

    def window(self, t: float, frame_w: int, frame_h: int, source_w: int, source_h: int) -> Window:
        """The source rectangle seen at camera time ``t`` (0..1)."""
        eased = ease(min(1.0, max(0.0, t)))
        scale = self.scale_from * (self.scale_to / self.scale_from) ** eased
        width, height = frame_w * scale, frame_h * scale
        x = self.position_from[0] + (self.position_to[0] - self.position_from[0]) * eased
        y = self.position_from[1] + (self.position_to[1] - self.position_from[1]) * eased
        return Window(
            x * max(0.0, source_w - width), y * max(0.0, source_h - height), width, height
        )


def ease(t: float) -> float:
    """Half linear, half smoothstep: gentle at the ends, yet never at a standstill."""
    return 0.5 * t + 0.5 * t * t * (3.0 - 2.0 * t)

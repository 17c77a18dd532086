"""The backdrop of a shot without a reference image: generated from the scene text.

A two-colour gradient with soft, slowly drifting blobs of light, in colours taken from
words of the scene ("sunset", "forest", "night", ...) or from its hash. It is a smooth
function of position and time, so it is evaluated at 1/8 of the frame size (numpy, about
14 thousand points) and scaled up by swscale, which also converts it to YUV: cheap, and
sub-pixel smooth by construction. The camera moves over it as over a picture.
"""

from __future__ import annotations

import colorsys
import math
import re
from dataclasses import dataclass
from typing import Any

import av
import numpy as np
from av.video.reformatter import VideoReformatter
from numpy.typing import NDArray

from genjobs.models.storyboard.camera import WIDEST, Window, seeded
from genjobs.models.storyboard.yuv import COLORSPACE, RANGE, YuvFrame

SHRINK = 8  # drawn at 1/8 of the frame size
BLOBS = 6
# Word -> hue (0..1). The first of these words in the scene sets the palette.
HUES = {
    "red": 0.0, "fire": 0.03, "sunset": 0.05, "orange": 0.07, "autumn": 0.08,
    "desert": 0.1, "sand": 0.11, "gold": 0.12, "golden": 0.12, "sun": 0.13,
    "yellow": 0.15, "grass": 0.28, "forest": 0.31, "green": 0.33, "jungle": 0.33,
    "teal": 0.47, "ice": 0.52, "snow": 0.55, "ocean": 0.55, "sea": 0.55,
    "harbour": 0.56, "harbor": 0.56, "water": 0.56, "river": 0.56, "sky": 0.58,
    "rain": 0.6, "blue": 0.62, "night": 0.66, "city": 0.68, "violet": 0.76,
    "purple": 0.78, "neon": 0.82, "pink": 0.92, "rose": 0.95, "love": 0.97,
}  # fmt: skip
DARK_WORDS = {"night", "dark", "shadow", "storm", "midnight", "cave", "space"}
BRIGHT_WORDS = {"dawn", "morning", "day", "bright", "snow", "noon", "beach", "summer"}


@dataclass(frozen=True)
class Blob:
    x: float  # centre at time 0, in source pixels
    y: float
    vx: float  # drift, pixels per second
    vy: float
    sigma: float
    colour: tuple[float, float, float]
    strength: float
    phase: float


def palette(scene: str, rng_hue: float) -> tuple[float, float]:
    """(hue, brightness) from the scene's words."""
    words = re.findall(r"[a-z]+", scene.lower())
    hue = next((HUES[word] for word in words if word in HUES), rng_hue)
    brightness = 0.55
    if DARK_WORDS & set(words):
        brightness = 0.32
    elif BRIGHT_WORDS & set(words):
        brightness = 0.8
    return hue, brightness


def _rgb(hue: float, saturation: float, value: float) -> tuple[float, float, float]:
    r, g, b = colorsys.hsv_to_rgb(hue % 1.0, min(1.0, saturation), min(1.0, value))
    return 255.0 * r, 255.0 * g, 255.0 * b


class Backdrop:
    """One shot's backdrop; ``draw`` renders the camera's window of it at a moment."""

    def __init__(self, scene: str, index: int, frame_w: int, frame_h: int) -> None:
        rng = seeded(scene, index)
        self.world_w, self.world_h = frame_w * WIDEST, frame_h * WIDEST
        self.frame_w, self.frame_h = frame_w, frame_h
        self.low_w, self.low_h = max(16, frame_w // SHRINK), max(16, frame_h // SHRINK)
        hue, value = palette(scene, rng.random())
        self.top = np.array(_rgb(hue + rng.uniform(-0.04, 0.04), 0.7, value * 0.55), np.float32)
        self.bottom = np.array(_rgb(hue + rng.uniform(0.06, 0.14), 0.8, value), np.float32)
        angle = rng.uniform(0.0, 2.0 * math.pi)
        self.direction = (math.cos(angle), math.sin(angle))
        size = min(self.world_w, self.world_h)
        self.blobs = [
            Blob(
                x=rng.uniform(0.0, self.world_w),
                y=rng.uniform(0.0, self.world_h),
                vx=rng.uniform(-0.04, 0.04) * size,
                vy=rng.uniform(-0.03, 0.03) * size,
                sigma=rng.uniform(0.08, 0.2) * size,
                colour=_rgb(
                    hue + (0.5 if i == 0 else rng.uniform(-0.1, 0.1)),
                    rng.uniform(0.35, 0.7),
                    min(1.0, value * rng.uniform(1.0, 1.5)),
                ),
                strength=rng.uniform(0.35, 0.7),
                phase=rng.uniform(0.0, 2.0 * math.pi),
            )
            for i in range(BLOBS)
        ]
        across = np.linspace(-1.0, 1.0, self.low_w, dtype=np.float32) ** 2
        down = np.linspace(-1.0, 1.0, self.low_h, dtype=np.float32) ** 2
        self.vignette = 1.0 - 0.18 * (down[:, None] + across[None, :])
        # The colours ``picture`` mixes, in the order of its weights.
        self._colours = np.array(
            [self.top, self.bottom, *(blob.colour for blob in self.blobs)], np.float32
        )
        self._reformatter = VideoReformatter()

    def sample_points(
        self, window: Window
    ) -> tuple[NDArray[np.floating[Any]], NDArray[np.floating[Any]], NDArray[np.floating[Any]]]:
        """Where the small picture of ``window`` is sampled: the x and y of its columns and
        rows in source pixels, and how far along the gradient (0..1) each point lies."""
        xs = window.left + (np.arange(self.low_w, dtype=np.float32) + 0.5) * (
            window.width / self.low_w
        )
        ys = window.top + (np.arange(self.low_h, dtype=np.float32) + 0.5) * (
            window.height / self.low_h
        )
        dx, dy = self.direction
        reach = abs(dx) * self.world_w + abs(dy) * self.world_h
        start = min(0.0, dx * self.world_w) + min(0.0, dy * self.world_h)
        along = ((ys[:, None] * dy + xs[None, :] * dx) - start) / reach
        return xs, ys, along

    def picture(self, window: Window, seconds: float) -> NDArray[np.uint8]:
        """The window at ``seconds`` into the shot, as a small RGB array.

        Each blob blends the field towards its colour, ``f += w * (colour - f)``, in turn.
        Every step is linear in the colours, so the result is a weighted sum of the
        gradient's two colours and the blobs' colours with per-pixel weights that do not
        depend on the channel: the weights are worked out on one plane and the colours
        mixed in one matrix product, instead of six passes over all three channels."""
        xs, ys, along = self.sample_points(window)
        # One plane per colour: numpy is quick along long contiguous rows, slow along an
        # innermost axis of three channels.
        weights = np.empty((2 + len(self.blobs), self.low_h, self.low_w), np.float32)
        # From the last blob back: what a colour blended in keeps after the later blends.
        kept = np.ones((self.low_h, self.low_w), np.float32)
        sway = 0.02 * min(self.world_w, self.world_h)
        for index in range(len(self.blobs) - 1, -1, -1):
            blob = self.blobs[index]
            x = blob.x + blob.vx * seconds + sway * math.sin(0.7 * seconds + blob.phase)
            y = blob.y + blob.vy * seconds + sway * math.cos(0.5 * seconds + blob.phase)
            gx = np.exp(-0.5 * ((xs - x) / blob.sigma) ** 2)
            gy = np.exp(-0.5 * ((ys - y) / blob.sigma) ** 2)
            weight = np.multiply.outer(blob.strength * gy, gx)
            np.multiply(weight, kept, out=weights[2 + index])
            kept -= weights[2 + index]
        np.multiply(kept, 1.0 - along, out=weights[0])  # the gradient's top colour
        np.multiply(kept, along, out=weights[1])  # and its bottom colour
        weights *= self.vignette
        field = self._colours.T @ weights.reshape(len(weights), -1)  # (3, pixels)
        field += 0.5
        np.clip(field, 0.0, 255.0, out=field)
        planes = field.astype(np.uint8).reshape(3, self.low_h, self.low_w)
        return np.ascontiguousarray(planes.transpose(1, 2, 0))

    def draw(self, window: Window, seconds: float, into: YuvFrame) -> None:
        small = av.VideoFrame.from_ndarray(self.picture(window, seconds), format="rgb24")
        scaled = self._reformatter.reformat(
            small,
            into.width,
            into.height,
            format="yuv420p",
            dst_colorspace=COLORSPACE,
            dst_color_range=RANGE,
            interpolation="BICUBIC",
            threads=1,
        )
        for target, plane in zip(into.planes, YuvFrame(scaled).planes, strict=True):
            np.copyto(target, plane)

"""The timeline: which shot each output frame belongs to, and where crossfades fall."""

from __future__ import annotations

from dataclasses import dataclass

CROSSFADE_S = 0.4


@dataclass(frozen=True)
class ShotSpan:
    index: int
    scene: str
    first: int  # first frame of the shot (inclusive)
    last: int  # last frame (exclusive)


@dataclass(frozen=True)
class FramePlan:
    """Frame ``n`` shows ``shot`` at local time ``t`` (0..1 through the shot); during a
    crossfade it also shows ``next_shot`` with weight ``mix``."""

    shot: int
    t: float
    next_shot: int | None
    mix: float


def spans(scenes: list[tuple[str, float]], total_s: int, fps: int) -> list[ShotSpan]:
    """Each shot lasts its duration; the last one holds to fill the total."""
    total = total_s * fps
    result = []
    start = 0
    for index, (scene, duration) in enumerate(scenes):
        end = total if index == len(scenes) - 1 else min(total, start + round(duration * fps))
        result.append(ShotSpan(index, scene, start, max(end, start + 1)))
        start = result[-1].last
    return result


def frame_plan(shot_spans: list[ShotSpan], fps: int) -> list[FramePlan]:
    fade = max(1, round(CROSSFADE_S * fps))
    plans = []
    for span in shot_spans:
        length = span.last - span.first
        for frame in range(span.first, span.last):
            t = (frame - span.first) / max(1, length - 1)
            next_shot, mix = None, 0.0
            following = span.index + 1
            into_fade = frame - (span.last - fade)
            if following < len(shot_spans) and into_fade >= 0 and length > fade:
                next_shot, mix = following, (into_fade + 1) / (fade + 1)
            plans.append(FramePlan(span.index, t, next_shot, mix))
    return plans

"""Shot timing: which shot (or which two, during a crossfade) each output frame shows.

Cuts fall at the cumulative shot durations, rounded to whole frames, so each shot owns
the frames of its own duration and the last shot holds until the end of the video. A
crossfade is centred on each cut, so it borrows equally from the shots on both sides and
no shot loses its time. Pure Python: no heavy imports.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

CROSSFADE_S = 0.4


@dataclass(frozen=True)
class Layer:
    """Shot ``shot`` at camera time ``t`` (0..1 through its visible span), mixed in with
    ``weight`` (1.0 unless the frame is part of a crossfade)."""

    shot: int
    t: float
    weight: float


@dataclass(frozen=True)
class ShotSpan:
    first: int  # first frame the shot owns (the cut into it)
    end: int  # one past its last owned frame (the cut out of it)
    visible_first: int  # first frame it appears in, fading in
    visible_end: int  # one past the last frame it appears in, fading out

    def time_at(self, frame: int) -> float:
        """Camera time: 0 at the first visible frame, 1 at the last."""
        length = self.visible_end - self.visible_first
        return (frame - self.visible_first) / max(1, length - 1)


@dataclass(frozen=True)
class Timeline:
    fps: int
    spans: tuple[ShotSpan, ...]
    frames: tuple[tuple[Layer, ...], ...]  # per output frame: 1 layer, or 2 in a crossfade

    @property
    def frame_count(self) -> int:
        return len(self.frames)

    def thumbnail_frame(self) -> int:
        """The middle of the first shot: inside it, clear of any crossfade."""
        first = self.spans[0]
        return (first.first + first.end - 1) // 2


def cut_frames(durations: Sequence[float], frame_count: int, fps: int) -> list[int]:
    """Frame index of every cut: rounded cumulative durations, each shot at least 1 frame."""
    cuts: list[int] = []
    elapsed = 0.0
    for index, duration in enumerate(durations[:-1]):
        elapsed += duration
        earliest = (cuts[-1] if cuts else 0) + 1
        latest = frame_count - (len(durations) - 1 - index)  # room for the later shots
        cuts.append(min(max(round(elapsed * fps), earliest), latest))
    return cuts


def build_timeline(
    durations: Sequence[float], total_s: float, fps: int, crossfade_s: float = CROSSFADE_S
) -> Timeline:
    frame_count = round(total_s * fps)
    if not durations or frame_count < len(durations):
        raise ValueError(f"{len(durations)} shots do not fit in {frame_count} frames")
    cuts = cut_frames(durations, frame_count, fps)
    bounds = [0, *cuts, frame_count]
    lengths = [bounds[i + 1] - bounds[i] for i in range(len(durations))]
    # A fade may take at most half of each neighbour, so a shot's two fades never overlap.
    wanted = round(crossfade_s * fps)
    fades = [min(wanted, lengths[i], lengths[i + 1]) for i in range(len(cuts))]
    fade_starts = [cut - fade // 2 for cut, fade in zip(cuts, fades, strict=True)]

    spans = []
    for index in range(len(durations)):
        visible_first = fade_starts[index - 1] if index > 0 else 0
        visible_end = fade_starts[index] + fades[index] if index < len(cuts) else frame_count
        spans.append(ShotSpan(bounds[index], bounds[index + 1], visible_first, visible_end))

    frames: list[tuple[Layer, ...]] = []
    shot = 0
    for frame in range(frame_count):
        while frame >= spans[shot].end:
            shot += 1
        frames.append(_layers(frame, shot, spans, cuts, fades, fade_starts))
    return Timeline(fps, tuple(spans), tuple(frames))


def _layers(
    frame: int,
    shot: int,
    spans: list[ShotSpan],
    cuts: list[int],
    fades: list[int],
    fade_starts: list[int],
) -> tuple[Layer, ...]:
    # The fade around the cut out of this shot, or the one around the cut into it.
    for cut_index in (shot, shot - 1):
        if 0 <= cut_index < len(cuts) and fades[cut_index] > 0:
            start = fade_starts[cut_index]
            if start <= frame < start + fades[cut_index]:
                weight = (frame - start + 1) / (fades[cut_index] + 1)
                outgoing, incoming = spans[cut_index], spans[cut_index + 1]
                return (
                    Layer(cut_index, outgoing.time_at(frame), 1.0 - weight),
                    Layer(cut_index + 1, incoming.time_at(frame), weight),
                )
    return (Layer(shot, spans[shot].time_at(frame), 1.0),)

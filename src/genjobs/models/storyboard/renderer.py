"""The animatic renderer: a storyboard -> H.264 MP4 files and a thumbnail, streamed.

Per shot, once: its camera move, its picture (the reference image, shared by all shots,
or a generated backdrop) and its caption as a YUV overlay. Per frame: the timeline says
which shot(s) show; each is drawn straight into a YUV 4:2:0 frame (sub-pixel camera view
with swscale, caption blended in its rectangle), two are mixed during a crossfade, and
the frame goes to the clean encoder; a copy with the watermark goes to the watermarked
one. Encoders run on their own threads, so drawing and encoding overlap on the cores, and
bounded queues keep only a few frames in memory.

A generative backend replaces this module, not the models: the models only hand it a
``RenderRequest`` and paths.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from genjobs.models.storyboard.backdrop import Backdrop
from genjobs.models.storyboard.camera import CameraMove
from genjobs.models.storyboard.caption import caption, watermark
from genjobs.models.storyboard.encode import Encoder, encoder_threads
from genjobs.models.storyboard.overlay import Overlay
from genjobs.models.storyboard.resample import Resampler
from genjobs.models.storyboard.source import prepare_source, unpadded_size
from genjobs.models.storyboard.timeline import Layer, build_timeline
from genjobs.models.storyboard.yuv import YuvFrame

FPS = 24
THUMBNAIL_QUALITY = 85


@dataclass(frozen=True)
class Shot:
    scene: str
    duration: float  # seconds


@dataclass(frozen=True)
class RenderRequest:
    shots: Sequence[Shot]
    total_s: float
    width: int  # even
    height: int  # even
    fps: int = FPS


@dataclass(frozen=True)
class RenderOutputs:
    clean: Path | None  # the video without watermark, if wanted
    watermarked: Path | None  # the video with the watermark, if wanted
    thumbnail: Path  # JPEG of a frame of the first shot (clean)


class ShotPainter:
    """Draws one shot at a camera time: picture through the camera, then its caption."""

    def __init__(
        self,
        index: int,
        shot: Shot,
        request: RenderRequest,
        source: YuvFrame | None,
        resampler: Resampler,
        duration_s: float,
    ) -> None:
        self.move = CameraMove.for_shot(shot.scene, index)
        self.source = source
        self.resampler = resampler
        self.backdrop = (
            None
            if source is not None
            else Backdrop(shot.scene, index, request.width, request.height)
        )
        self.caption = Overlay(
            caption(shot.scene, request.width, request.height), request.width, request.height
        )
        self.duration_s = duration_s

    def paint(self, t: float, into: YuvFrame) -> None:
        if self.source is not None:
            source_w, source_h = unpadded_size(self.source)
            window = self.move.window(t, into.width, into.height, source_w, source_h)
            self.resampler.view(self.source, window, into)
        else:
            assert self.backdrop is not None
            world_w, world_h = self.backdrop.world_w, self.backdrop.world_h
            window = self.move.window(t, into.width, into.height, round(world_w), round(world_h))
            self.backdrop.draw(window, t * self.duration_s, into)
        self.caption.apply(into)


def render(
    request: RenderRequest,
    reference: Image.Image | None,
    outputs: RenderOutputs,
    on_frame: Callable[[int, int], None],
) -> None:
    """Render the storyboard. ``on_frame(done, total)`` runs after every frame and may
    raise to stop (cancellation); the encoders are then stopped without flushing."""
    if outputs.clean is None and outputs.watermarked is None:
        raise ValueError("nothing to render: neither a clean nor a watermarked video wanted")
    timeline = build_timeline(
        [shot.duration for shot in request.shots], request.total_s, request.fps
    )
    source = prepare_source(reference, request.width, request.height) if reference else None
    resampler = Resampler()
    painters = [
        ShotPainter(
            index,
            shot,
            request,
            source,
            resampler,
            (span.visible_end - span.visible_first) / request.fps,
        )
        for index, (shot, span) in enumerate(zip(request.shots, timeline.spans, strict=True))
    ]
    mark = Overlay(watermark(request.width, request.height), request.width, request.height)
    thumbnail_at = timeline.thumbnail_frame()

    paths = [path for path in (outputs.clean, outputs.watermarked) if path is not None]
    threads = encoder_threads(len(paths))
    encoders: list[Encoder] = []
    try:
        for path in paths:
            encoders.append(Encoder(path, request.width, request.height, request.fps, threads))
        clean = encoders[0] if outputs.clean is not None else None
        marked = encoders[-1] if outputs.watermarked is not None else None
        incoming = YuvFrame.new(request.width, request.height)  # reused: never queued
        for index, layers in enumerate(timeline.frames):
            frame = YuvFrame.new(request.width, request.height)
            _draw(painters, layers, frame, incoming)
            shown = frame  # the thumbnail shows what resultUrls shows
            if clean is not None:
                clean.put(frame.frame, index)
            if marked is not None:
                marked_frame = frame.copy() if clean is not None else frame
                mark.apply(marked_frame)
                marked.put(marked_frame.frame, index)
                shown = frame if clean is not None else marked_frame
            if index == thumbnail_at:
                shown.to_image().save(outputs.thumbnail, "JPEG", quality=THUMBNAIL_QUALITY)
            on_frame(index + 1, timeline.frame_count)
        for encoder in encoders:
            encoder.finish()
    except BaseException:
        for encoder in encoders:
            encoder.abort()
        raise


def _draw(
    painters: list[ShotPainter], layers: tuple[Layer, ...], frame: YuvFrame, scratch: YuvFrame
) -> None:
    first = layers[0]
    painters[first.shot].paint(first.t, frame)
    for layer in layers[1:]:  # a crossfade: mix the incoming shot in
        painters[layer.shot].paint(layer.t, scratch)
        frame.mix(scratch, layer.weight)

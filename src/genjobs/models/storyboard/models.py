"""The storyboard models: kie's names and inputs, the built-in animatic renderer behind.

No generative video weights can be had offline, so the renderer is an animatic: camera
moves over the reference image or a generated backdrop, the scene text as captions,
crossfades. A generative backend plugs in as models with the same names and schemas.

Imported by the API server for schemas and prices: Pillow, PyAV and numpy are imported
inside ``setup``/``run`` only.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel

from genjobs.models.storyboard.schema import (
    ImageToVideoInput,
    ProImageToVideoInput,
    ProTextToVideoInput,
    StoryboardInput,
    TextToVideoInput,
)
from genjobs.runtime.model import Model, TaskFailed

if TYPE_CHECKING:
    from genjobs.models.storyboard.renderer import Shot
    from genjobs.runtime.context import RunContext

log = logging.getLogger("genjobs.storyboard")

SIZES = {
    ("landscape", "standard"): (1280, 720),
    ("portrait", "standard"): (720, 1280),
    ("landscape", "high"): (1920, 1080),
    ("portrait", "high"): (1080, 1920),
}
CREDITS_PER_SECOND = {"standard": 2.0, "high": 4.0}  # 1080p is 2.25x the pixels to render
ANIMATIC = (
    " Rendered by genjobs' built-in animatic renderer, not a generative video model: smooth "
    "camera moves over the reference image (or a backdrop generated from the text), the "
    "text as captions, crossfades; H.264 MP4, 24 fps, plus a thumbnail."
)
TIMEOUT_S = 1800.0  # ~30x the render time of the longest 1080p video on 2 cores
IMAGE_MAX_BYTES = 10 * 1024 * 1024
# Progress: fetching and preparing take the first few percent, frames the rest up to 98.
PROGRESS_FRAMES_FROM, PROGRESS_FRAMES_TO = 3.0, 98.0


def render_task(
    ctx: RunContext,
    shots: list[Shot],
    total_s: int,
    size: tuple[int, int],
    image_url: str | None,
    *,
    clean: bool,
    watermarked: bool,
) -> dict[str, Any]:
    """Render and store the videos; the result JSON of the task."""
    from genjobs.models.storyboard.renderer import RenderOutputs, RenderRequest, render
    from genjobs.models.storyboard.source import load_reference

    ctx.progress(1)
    reference = None
    if image_url is not None:
        try:
            path = ctx.fetch_input(image_url, max_bytes=IMAGE_MAX_BYTES)
        except TaskFailed as failure:
            if failure.code != "input_too_large":
                raise
            raise TaskFailed("invalid_image", "image_urls[0] is larger than 10 MB") from failure
        reference = load_reference(path, *size)
    ctx.progress(PROGRESS_FRAMES_FROM)
    outputs = RenderOutputs(
        clean=ctx.work_dir / "video.mp4" if clean else None,
        watermarked=ctx.work_dir / "video-watermarked.mp4" if watermarked else None,
        thumbnail=ctx.work_dir / "thumbnail.jpg",
    )
    span = PROGRESS_FRAMES_TO - PROGRESS_FRAMES_FROM

    def on_frame(done: int, total: int) -> None:
        ctx.progress(PROGRESS_FRAMES_FROM + span * done / total)  # also checks for cancel

    render(RenderRequest(shots, total_s, *size), reference, outputs, on_frame)
    result: dict[str, Any] = {}
    if outputs.clean is not None:
        result["resultUrls"] = [ctx.save_output(outputs.clean, "video.mp4")]
    if outputs.watermarked is not None:
        marked = ctx.save_output(outputs.watermarked, "video-watermarked.mp4")
        result["resultWaterMarkUrls"] = [marked]
        result.setdefault("resultUrls", [marked])
    result["resultThumbnailUrls"] = [ctx.save_output(outputs.thumbnail, "thumbnail.jpg")]
    ctx.progress(99)
    return result


def warm_up() -> None:
    """Load the renderer's libraries and the caption font once per worker process."""
    import av

    from genjobs.models.storyboard import renderer  # noqa: F401
    from genjobs.models.storyboard.caption import font

    try:
        av.codec.Codec("libx264", "w")
    except Exception as exc:  # PyAV's codec lookup raises its own error types
        raise RuntimeError("this PyAV build has no libx264 encoder") from exc
    font(30)


class StoryboardModel(Model[StoryboardInput]):
    name = "sora-2-pro-storyboard"
    input_schema = StoryboardInput
    description = (
        "A storyboard of 1-10 shots (scene text and duration each) made into one video of "
        "10, 15 or 25 s, with an optional reference image; clean and watermarked versions."
        + ANIMATIC
    )
    concurrency = 1  # one render uses both cores of the reference machine
    timeout_s = TIMEOUT_S

    def price_for(self, input: StoryboardInput) -> float:
        return CREDITS_PER_SECOND["standard"] * int(input.n_frames)

    def setup(self) -> None:
        warm_up()

    def run(self, input: StoryboardInput, ctx: RunContext) -> dict[str, Any]:
        from genjobs.models.storyboard.renderer import Shot

        return render_task(
            ctx,
            [Shot(shot.Scene, shot.duration) for shot in input.shots],
            int(input.n_frames),
            SIZES[(input.aspect_ratio, "standard")],
            input.image_urls[0] if input.image_urls else None,
            clean=True,
            watermarked=True,
        )


class _PromptVideoModel(Model[TextToVideoInput]):
    """One shot with the prompt as its scene; clean or watermarked as asked."""

    input_schema: ClassVar[type[BaseModel]] = TextToVideoInput
    concurrency = 1
    timeout_s = TIMEOUT_S

    def price_for(self, input: TextToVideoInput) -> float:
        return CREDITS_PER_SECOND[getattr(input, "size", "standard")] * int(input.n_frames)

    def setup(self) -> None:
        warm_up()

    def run(self, input: TextToVideoInput, ctx: RunContext) -> dict[str, Any]:
        from genjobs.models.storyboard.renderer import Shot

        image_urls: list[str] = getattr(input, "image_urls", [])
        return render_task(
            ctx,
            [Shot(input.prompt, float(input.n_frames))],
            int(input.n_frames),
            SIZES[(input.aspect_ratio, getattr(input, "size", "standard"))],
            image_urls[0] if image_urls else None,
            clean=input.remove_watermark,
            watermarked=not input.remove_watermark,
        )


class Sora2TextToVideoModel(_PromptVideoModel):
    name = "sora-2-text-to-video"
    input_schema = TextToVideoInput
    description = "A text prompt made into a 10 or 15 s video, 720p." + ANIMATIC


class Sora2ImageToVideoModel(_PromptVideoModel):
    name = "sora-2-image-to-video"
    input_schema = ImageToVideoInput
    description = "A reference image and a prompt made into a 10 or 15 s video, 720p." + ANIMATIC


class Sora2ProTextToVideoModel(_PromptVideoModel):
    name = "sora-2-pro-text-to-video"
    input_schema = ProTextToVideoInput
    description = "A text prompt made into a 10 or 15 s video, 720p or 1080p." + ANIMATIC


class Sora2ProImageToVideoModel(_PromptVideoModel):
    name = "sora-2-pro-image-to-video"
    input_schema = ProImageToVideoInput
    description = (
        "A reference image and a prompt made into a 10 or 15 s video, 720p or 1080p." + ANIMATIC
    )

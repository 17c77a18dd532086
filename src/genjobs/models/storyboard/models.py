"""The storyboard models. The built-in renderer is an animatic (camera moves over the
reference image or a generated backdrop, captions, crossfades), not generative video:
no video weights can be had offline. A generative backend plugs in as another model with
the same names and schemas."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel

from genjobs.models.storyboard.schema import (
    ImageToVideoInput,
    ProImageToVideoInput,
    ProTextToVideoInput,
    StoryboardInput,
    TextToVideoInput,
)
from genjobs.runtime.context import RunContext
from genjobs.runtime.model import Model, TaskFailed

IMAGE_MAX_BYTES = 10 * 1024 * 1024
IMAGE_FORMATS = {"JPEG", "PNG", "WEBP"}
SIZES = {
    ("landscape", "standard"): (1280, 720),
    ("portrait", "standard"): (720, 1280),
    ("landscape", "high"): (1920, 1080),
    ("portrait", "high"): (1080, 1920),
}
ANIMATIC = (
    " Rendered by genjobs' built-in animatic renderer (camera moves over the reference image "
    "or a generated backdrop, captions, crossfades; H.264 MP4), not a generative video model."
)
CREDITS_PER_SECOND = 2.0


def load_reference(ctx: RunContext, url: str) -> Any:
    from PIL import Image, ImageOps, UnidentifiedImageError

    path = ctx.fetch_input(url, max_bytes=IMAGE_MAX_BYTES)
    try:
        with Image.open(path) as image:
            if image.format not in IMAGE_FORMATS:
                raise TaskFailed(
                    "invalid_image", f"image_urls[0] is {image.format}; use jpeg, png or webp"
                )
            image.load()
            return ImageOps.exif_transpose(image).convert("RGB")
    except (UnidentifiedImageError, OSError) as exc:
        raise TaskFailed("invalid_image", "image_urls[0] is not a readable image") from exc


def render_task(
    ctx: RunContext,
    scenes: list[tuple[str, float]],
    total_s: int,
    size: tuple[int, int],
    image_url: str | None,
    clean: bool,
    watermarked: bool,
) -> dict[str, Any]:
    from genjobs.models.storyboard.render import RenderSpec, render

    reference = load_reference(ctx, image_url) if image_url else None
    clean_path = ctx.work_dir / "video.mp4" if clean else None
    marked_path = ctx.work_dir / "video-watermarked.mp4" if watermarked else None
    thumbnail = ctx.work_dir / "thumbnail.jpg"
    render(
        RenderSpec(scenes, total_s, *size),
        reference,
        clean_path,
        marked_path,
        thumbnail,
        on_frame=lambda done, total: ctx.progress(99 * done / total),
    )
    result: dict[str, Any] = {}
    if clean_path is not None:
        result["resultUrls"] = [ctx.save_output(clean_path, "video.mp4")]
    if marked_path is not None:
        marked_url = ctx.save_output(marked_path, "video-watermarked.mp4")
        result["resultWaterMarkUrls"] = [marked_url]
        result.setdefault("resultUrls", [marked_url])
    result["resultThumbnailUrls"] = [ctx.save_output(thumbnail, "thumbnail.jpg")]
    return result


class StoryboardModel(Model[StoryboardInput]):
    name = "sora-2-pro-storyboard"
    input_schema = StoryboardInput
    description = "A storyboard of 1-10 shots rendered to one MP4 video." + ANIMATIC
    concurrency = 1
    timeout_s = 1800.0

    def price_for(self, input: StoryboardInput) -> float:
        return CREDITS_PER_SECOND * int(input.n_frames)

    def run(self, input: StoryboardInput, ctx: RunContext) -> dict[str, Any]:
        return render_task(
            ctx,
            [(shot.Scene, shot.duration) for shot in input.shots],
            int(input.n_frames),
            SIZES[(input.aspect_ratio, "standard")],
            input.image_urls[0] if input.image_urls else None,
            clean=True,
            watermarked=True,
        )


class _PromptVideoModel(Model[TextToVideoInput]):
    """One shot with the prompt as its scene; watermarked or clean as asked."""

    input_schema: ClassVar[type[BaseModel]] = TextToVideoInput
    concurrency = 1
    timeout_s = 1800.0

    def price_for(self, input: TextToVideoInput) -> float:
        return CREDITS_PER_SECOND * int(input.n_frames)

    def run(self, input: TextToVideoInput, ctx: RunContext) -> dict[str, Any]:
        size = getattr(input, "size", "standard")
        image_urls: list[str] = getattr(input, "image_urls", [])
        return render_task(
            ctx,
            [(input.prompt, float(input.n_frames))],
            int(input.n_frames),
            SIZES[(input.aspect_ratio, size)],
            image_urls[0] if image_urls else None,
            clean=input.remove_watermark,
            watermarked=not input.remove_watermark,
        )


class Sora2TextToVideoModel(_PromptVideoModel):
    name = "sora-2-text-to-video"
    input_schema = TextToVideoInput
    description = "A prompt rendered to an MP4 video." + ANIMATIC


class Sora2ImageToVideoModel(_PromptVideoModel):
    name = "sora-2-image-to-video"
    input_schema = ImageToVideoInput
    description = "A reference image and a prompt rendered to an MP4 video." + ANIMATIC


class Sora2ProTextToVideoModel(_PromptVideoModel):
    name = "sora-2-pro-text-to-video"
    input_schema = ProTextToVideoInput
    description = "A prompt rendered to an MP4 video, 720p or 1080p." + ANIMATIC


class Sora2ProImageToVideoModel(_PromptVideoModel):
    name = "sora-2-pro-image-to-video"
    input_schema = ProImageToVideoInput
    description = "A reference image and a prompt rendered to MP4, 720p or 1080p." + ANIMATIC

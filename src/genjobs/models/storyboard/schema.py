"""kie's input schemas for sora-2-pro-storyboard and the sora-2 family."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

AspectRatio = Literal["landscape", "portrait"]


def _seconds_as_text(value: object) -> object:
    """kie sends n_frames as a string ("10"); a plain number 10 is taken as "10" too."""
    if isinstance(value, int | float) and not isinstance(value, bool) and value == int(value):
        return str(int(value))
    return value


class Shot(BaseModel):
    model_config = ConfigDict(extra="forbid")

    Scene: str = Field(min_length=1, max_length=2000, description="What the shot shows.")
    duration: float = Field(ge=0.1, le=15, description="Seconds, 0.1 to 15.")


class StoryboardInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    n_frames: Literal["10", "15", "25"] = Field(
        default="15", description='Total length in seconds: "10", "15" or "25".'
    )
    shots: list[Shot] = Field(min_length=1, max_length=10, description="1 to 10 shots.")
    image_urls: list[str] = Field(
        default_factory=list,
        max_length=1,
        description="At most one reference image (jpeg, png or webp, up to 10 MB).",
    )
    aspect_ratio: AspectRatio = Field(default="landscape", description="landscape or portrait.")

    _n_frames_text = field_validator("n_frames", mode="before")(_seconds_as_text)

    @field_validator("shots")
    @classmethod
    def durations_fit(cls, shots: list[Shot], info: ValidationInfo) -> list[Shot]:
        # n_frames is declared first, so it is validated (or failed) by now.
        n_frames = info.data.get("n_frames")
        total = sum(shot.duration for shot in shots)
        if n_frames is not None and total > int(n_frames) + 1e-9:
            raise ValueError(
                f"the sum of shot durations ({total:g} s) may not exceed n_frames ({n_frames} s)"
            )
        return shots


class TextToVideoInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    prompt: str = Field(min_length=1, max_length=10_000, description="What the video shows.")
    aspect_ratio: AspectRatio = Field(default="landscape", description="landscape or portrait.")
    n_frames: Literal["10", "15"] = Field(default="10", description='Seconds: "10" or "15".')
    _n_frames_text = field_validator("n_frames", mode="before")(_seconds_as_text)
    remove_watermark: bool = Field(
        default=True, description="true: resultUrls is the clean video; false: watermarked."
    )


class ImageToVideoInput(TextToVideoInput):
    image_urls: list[str] = Field(
        min_length=1, max_length=1, description="The reference image (jpeg, png or webp)."
    )


class ProTextToVideoInput(TextToVideoInput):
    size: Literal["standard", "high"] = Field(
        default="standard", description="standard: 720p; high: 1080p."
    )


class ProImageToVideoInput(ImageToVideoInput):
    size: Literal["standard", "high"] = Field(
        default="standard", description="standard: 720p; high: 1080p."
    )

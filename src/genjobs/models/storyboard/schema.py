"""kie's input schemas for sora-2-pro-storyboard and the sora-2 family.

The field descriptions become the published JSON Schema. Every rule fails with an error
located at its field, which the service reports as ``input.<field>: <message>`` (422).
Only pydantic is imported here: the API server reads these schemas.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

AspectRatio = Literal["landscape", "portrait"]
IMAGE_RULE = "jpeg, png or webp, up to 10 MB"


def _seconds_as_text(value: object) -> object:
    """kie sends n_frames as a string ("10"); a whole number (10 or 10.0) is taken too."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value
    if math.isfinite(value) and value == int(value):
        return str(int(value))
    return value


def _has_text(value: str) -> str:
    if not value.strip():
        raise PydanticCustomError("blank_text", "must contain some text, not only spaces")
    return value


def _http_url(value: str) -> str:
    scheme, _, rest = value.partition("://")
    if scheme.lower() not in ("http", "https") or not rest.strip("/"):
        raise PydanticCustomError("url_scheme", "must be an http or https URL")
    return value


Text = Annotated[str, AfterValidator(_has_text)]
ImageUrl = Annotated[str, Field(max_length=4096), AfterValidator(_http_url)]


def _none_as_empty(value: object) -> object:
    """Clients that send every key may send image_urls: null for "no image"."""
    return [] if value is None else value


class Shot(BaseModel):
    model_config = ConfigDict(extra="forbid")

    Scene: Text = Field(
        min_length=1,
        max_length=5000,
        description="What the shot shows; the animatic shows it as the shot's caption.",
    )
    duration: float = Field(
        ge=0.1, le=15, allow_inf_nan=False, description="Length of the shot in seconds, 0.1 to 15."
    )


class StoryboardInput(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "n_frames": "15",
                    "aspect_ratio": "landscape",
                    "image_urls": ["https://example.com/kitten.png"],
                    "shots": [
                        {"Scene": "A kitten with headphones at a cozy table", "duration": 7.5},
                        {"Scene": "The kitten licks its lips, satisfied", "duration": 7.5},
                    ],
                }
            ]
        },
    )

    # Declared before `shots`: the shots validator reads the validated value.
    n_frames: Literal["10", "15", "25"] = Field(
        default="15",
        description='Total length of the video in seconds: "10", "15" or "25".',
    )
    shots: list[Shot] = Field(
        min_length=1,
        max_length=10,
        description=(
            "1 to 10 shots, played in order. Their durations may not add up to more than "
            "n_frames; the last shot holds to fill the rest."
        ),
    )
    image_urls: list[ImageUrl] = Field(
        default_factory=list,
        max_length=1,
        description=f"At most one reference image ({IMAGE_RULE}) shown in every shot.",
    )
    aspect_ratio: AspectRatio = Field(
        default="landscape", description="landscape (1280x720) or portrait (720x1280)."
    )

    _n_frames_text = field_validator("n_frames", mode="before")(_seconds_as_text)
    _image_urls_none = field_validator("image_urls", mode="before")(_none_as_empty)

    @field_validator("shots")
    @classmethod
    def _durations_fit(cls, shots: list[Shot], info: ValidationInfo) -> list[Shot]:
        n_frames = info.data.get("n_frames")  # absent when n_frames itself was refused
        total = math.fsum(shot.duration for shot in shots)
        if n_frames is not None and total > int(n_frames) + 1e-9:
            raise PydanticCustomError(
                "shot_durations_too_long",
                "the sum of shot durations ({total} s) may not exceed n_frames ({n_frames} s)",
                {"total": str(round(total, 3)), "n_frames": n_frames},
            )
        return shots


class TextToVideoInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    prompt: Text = Field(
        min_length=1,
        max_length=10_000,
        description="What the video shows; the animatic shows it as the caption.",
    )
    aspect_ratio: AspectRatio = Field(default="landscape", description="landscape or portrait.")
    n_frames: Literal["10", "15"] = Field(
        default="10", description='Length of the video in seconds: "10" or "15".'
    )
    remove_watermark: bool = Field(
        default=True,
        description=(
            "true: resultUrls holds the clean video and there is no resultWaterMarkUrls. "
            "false: only the watermarked video is made; it is in both resultUrls and "
            "resultWaterMarkUrls."
        ),
    )

    _n_frames_text = field_validator("n_frames", mode="before")(_seconds_as_text)


class ImageToVideoInput(TextToVideoInput):
    image_urls: list[ImageUrl] = Field(
        min_length=1,
        max_length=1,
        description=f"The reference image ({IMAGE_RULE}): the video moves over it.",
    )


class ProTextToVideoInput(TextToVideoInput):
    size: Literal["standard", "high"] = Field(
        default="standard", description="standard: 720p (1280x720); high: 1080p (1920x1080)."
    )


class ProImageToVideoInput(ImageToVideoInput):
    size: Literal["standard", "high"] = Field(
        default="standard", description="standard: 720p (1280x720); high: 1080p (1920x1080)."
    )

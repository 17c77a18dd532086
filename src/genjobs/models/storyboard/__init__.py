"""sora-2-pro-storyboard and the sora-2 family, rendered by the built-in animatic renderer.

Only schemas and model classes are imported here; Pillow and PyAV load in the worker."""

from genjobs.models.storyboard.models import (
    Sora2ImageToVideoModel,
    Sora2ProImageToVideoModel,
    Sora2ProTextToVideoModel,
    Sora2TextToVideoModel,
    StoryboardModel,
)

__all__ = [
    "Sora2ImageToVideoModel",
    "Sora2ProImageToVideoModel",
    "Sora2ProTextToVideoModel",
    "Sora2TextToVideoModel",
    "StoryboardModel",
]

"""sora-2-pro-storyboard and the sora-2 family, made by the built-in animatic renderer.

Only the schemas and the model classes are imported here (the API server reads them);
Pillow, PyAV and numpy load in the worker, from ``setup``/``run``.
"""

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

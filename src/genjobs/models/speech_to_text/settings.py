"""Configuration of the speech-to-text model (environment, prefix ``GENJOBS_STT_``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class SpeechToTextSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GENJOBS_STT_", extra="ignore", frozen=True)

    model: str = Field(
        default="base",
        description="Whisper weights: 'base' (multilingual, shipped), 'tiny.en' (English "
        "only, shipped, faster), a local CTranslate2 Whisper directory, or a hub id.",
    )
    device: Literal["auto", "cpu", "cuda"] = "auto"  # auto: a CUDA GPU when there is one
    compute_type: str = "default"  # default: int8 on a CPU, float16 on a GPU
    cpu_threads: int = Field(default=0, ge=0)  # 0: CTranslate2 decides
    beam_size: int = Field(default=5, ge=1, le=20)
    # Hub ids are only looked up in the local Hugging Face cache unless this is set: the
    # service must not reach out to a model hub in the middle of a task.
    allow_download: bool = False
    max_duration_s: float = Field(default=4 * 3600.0, gt=0)
    # The audio is decoded and processed in windows of this length (cut at a quiet moment
    # near the boundary), so memory stays bounded however long the file is.
    window_s: float = Field(default=300.0, ge=10.0)

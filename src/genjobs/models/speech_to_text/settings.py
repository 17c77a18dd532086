"""Configuration of the speech-to-text model (environment, prefix ``GENJOBS_STT_``)."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class SpeechToTextSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GENJOBS_STT_", extra="ignore")

    # "base" (multilingual, shipped), "tiny.en" (English, shipped, faster), a local
    # CTranslate2 Whisper directory, or a hub id such as "Systran/faster-whisper-small".
    model: str = "base"
    device: str = "auto"  # auto uses a CUDA GPU when one is present
    compute_type: str = "default"  # int8 on CPU, float16 on GPU
    beam_size: int = 5
    cpu_threads: int = 0  # 0: CTranslate2 picks
    max_duration_s: float = 4 * 3600.0

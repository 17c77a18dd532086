"""The input of elevenlabs/speech-to-text: kie's fields plus ElevenLabs' num_speakers and
timestamps_granularity."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from genjobs.models.speech_to_text.languages import to_whisper


class SpeechToTextInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    audio_url: str = Field(
        min_length=1,
        max_length=2000,
        description="http(s) URL of the audio (wav, mp3, ogg/opus, flac, aac/m4a, mp4/webm), "
        "up to 200 MB; a genjobs upload link works too.",
    )
    language_code: str = Field(
        default="",
        max_length=8,
        description="ISO 639-1 or 639-3 code of the spoken language; empty: detect it.",
    )
    tag_audio_events: bool = Field(
        default=True, description="Mark laughter, applause, music and other non-speech sounds."
    )
    diarize: bool = Field(default=True, description="Tell speakers apart (speaker_0, ...).")
    num_speakers: int | None = Field(
        default=None, ge=1, le=32, description="How many speakers there are, when known."
    )
    timestamps_granularity: Literal["none", "word", "character"] = Field(
        default="word", description="character: each word also gets a `characters` list."
    )

    @field_validator("language_code")
    @classmethod
    def known_language(cls, value: str) -> str:
        if value and to_whisper(value) is None:
            raise ValueError(f"unsupported language {value!r}; use an ISO 639-1 or 639-3 code")
        return value

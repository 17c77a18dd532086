"""The input of elevenlabs/speech-to-text: kie's fields (audio_url, language_code,
tag_audio_events, diarize) plus ElevenLabs' num_speakers and timestamps_granularity."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from genjobs.models.speech_to_text.languages import to_whisper

MAX_AUDIO_MB = 200


class SpeechToTextInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    audio_url: str = Field(
        min_length=8,
        max_length=2000,
        pattern=r"^https?://\S+$",
        description=f"http(s) URL of the audio to transcribe, up to {MAX_AUDIO_MB} MB: wav, "
        "mp3, ogg/opus, flac, aac/m4a, or the audio track of an mp4/webm/mov video. A genjobs "
        "upload link works too.",
    )
    language_code: str = Field(
        default="",
        max_length=8,
        description="ISO 639-1 or ISO 639-3 code of the spoken language (e.g. 'en' or 'eng'); "
        "empty: the language is detected. The result reports it as ISO 639-3.",
    )
    tag_audio_events: bool = Field(
        default=True,
        description="Mark non-speech sounds where nobody speaks, such as (laughter), "
        "(applause) or (music), as words of type audio_event.",
    )
    diarize: bool = Field(
        default=True,
        description="Tell the speakers apart: words get speaker_0, speaker_1, ... in order of "
        "first appearance. When false every word is speaker_0.",
    )
    num_speakers: int | None = Field(
        default=None,
        ge=1,
        le=32,
        description="How many speakers there are, when known: the speech is split into this "
        "many voices. Empty: the number is found from the audio.",
    )
    timestamps_granularity: Literal["none", "word", "character"] = Field(
        default="word",
        description="word: start and end of every word; character: also a `characters` list "
        "with the timing of each character; none: words without timings (null).",
    )

    @field_validator("language_code")
    @classmethod
    def known_language(cls, value: str) -> str:
        value = value.strip()
        if value and to_whisper(value) is None:
            raise ValueError(f"unsupported language {value!r}; use an ISO 639-1 or 639-3 code")
        return value

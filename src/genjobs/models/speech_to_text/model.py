"""elevenlabs/speech-to-text: the plugin. The API server imports this module for the schema
and the price, so the models (and everything heavy) load in ``setup`` only."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from genjobs.config import get_settings
from genjobs.models.speech_to_text.schema import MAX_AUDIO_MB, SpeechToTextInput
from genjobs.models.speech_to_text.settings import SpeechToTextSettings
from genjobs.runtime.context import RunContext
from genjobs.runtime.model import Model

if TYPE_CHECKING:
    from genjobs.models.speech_to_text.pipeline import Engines

FETCHED, PROCESSED = 2.0, 98.0  # progress (%) once the file is here, once the audio is done


class SpeechToTextModel(Model[SpeechToTextInput]):
    name = "elevenlabs/speech-to-text"
    input_schema = SpeechToTextInput
    description = (
        "Speech to text in ElevenLabs' format: the text, each word with its timing, speaker "
        "(diarize) and log-probability, the spacing between words, non-speech audio events "
        "(tag_audio_events) and the language (ISO 639-3) with its probability. Runs offline: "
        "faster-whisper (Whisper base, or tiny.en), resemblyzer voice prints and YAMNet. "
        "Price: a fixed 3.5 credits per task, whatever the length (kie charges about 3.5 "
        "credits per minute)."
    )
    price = 3.5
    concurrency = 1  # one task uses every core of a CPU machine
    timeout_s = 3 * 3600.0  # the longest audio accepted (4 h) takes well under this

    def __init__(self) -> None:
        self.engines: Engines | None = None

    def setup(self) -> None:
        from genjobs.models.speech_to_text import pipeline

        if self.engines is None:
            self.engines = pipeline.load(SpeechToTextSettings(), get_settings().model_cache_dir)

    def run(self, input: SpeechToTextInput, ctx: RunContext) -> dict[str, Any]:
        from genjobs.models.speech_to_text import pipeline

        self.setup()  # a no-op once loaded: the worker already called it
        assert self.engines is not None
        path = ctx.fetch_input(input.audio_url, max_bytes=MAX_AUDIO_MB * 1024 * 1024)
        ctx.progress(FETCHED)
        result = pipeline.transcribe(
            self.engines,
            path,
            input,
            progress=lambda fraction: ctx.progress(FETCHED + (PROCESSED - FETCHED) * fraction),
        )
        return {"resultObject": result}

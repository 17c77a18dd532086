"""elevenlabs/speech-to-text: offline transcription with word timings, speakers, audio
events and language detection, answered in ElevenLabs' format."""

from __future__ import annotations

from typing import Any

from genjobs.config import get_settings
from genjobs.models.speech_to_text.languages import to_whisper
from genjobs.models.speech_to_text.schema import SpeechToTextInput
from genjobs.models.speech_to_text.settings import SpeechToTextSettings
from genjobs.runtime.context import RunContext
from genjobs.runtime.model import Model

MAX_AUDIO_BYTES = 200 * 1024 * 1024


class SpeechToTextModel(Model[SpeechToTextInput]):
    name = "elevenlabs/speech-to-text"
    input_schema = SpeechToTextInput
    description = (
        "Speech to text in ElevenLabs' format: words with timings, spacing, speakers "
        "(diarize), audio events (tag_audio_events) and the detected language. Runs "
        "offline with faster-whisper (Whisper base by default), resemblyzer and YAMNet. "
        "Fixed price per task."
    )
    price = 3.5
    concurrency = 1
    timeout_s = 3 * 3600.0

    def setup(self) -> None:
        import ctranslate2

        from genjobs.models.speech_to_text import diarize, events, recognize, weights

        config = SpeechToTextSettings()
        self.config = config
        cache_dir = get_settings().model_cache_dir
        device = config.device
        if device == "auto":
            device = "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"
        compute_type = config.compute_type
        if compute_type == "default":  # int8 on a CPU (the shipped weights are float16)
            compute_type = "int8" if device == "cpu" else "float16"
        self.whisper = recognize.load(
            weights.resolve(config.model, cache_dir), device, compute_type, config.cpu_threads
        )
        self.speakers = diarize.load_encoder()
        self.tagger = events.EventTagger(cache_dir)

    def run(self, input: SpeechToTextInput, ctx: RunContext) -> dict[str, Any]:
        from genjobs.models.speech_to_text import assemble, audio, diarize, recognize

        path = ctx.fetch_input(input.audio_url, max_bytes=MAX_AUDIO_BYTES)
        ctx.progress(2)
        samples = audio.decode(
            path, self.config.max_duration_s, on_progress=lambda f: ctx.progress(2 + 8 * f)
        )
        ctx.progress(10)
        language = to_whisper(input.language_code) if input.language_code else None
        transcript = recognize.transcribe(
            self.whisper,
            samples,
            language,
            self.config.beam_size,
            on_progress=lambda f: ctx.progress(10 + 70 * f),
        )
        if input.diarize:
            ctx.check_cancelled()
            diarize.assign_speakers(self.speakers, samples, transcript.words, input.num_speakers)
        ctx.progress(90)
        found = self.tagger.tag(samples, transcript.words) if input.tag_audio_events else []
        ctx.progress(99)
        result = assemble.elevenlabs_result(transcript, found, input.timestamps_granularity)
        return {"resultObject": result}

"""One transcription: the audio goes through in windows (recognition, voice prints, event
tagging per window), then speakers are clustered over the whole and the answer assembled.
Only one window of audio is in memory at a time, so an hour of audio costs what five minutes
do, plus the words and voice prints (a few MB per hour)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from genjobs.models.speech_to_text import assemble
from genjobs.models.speech_to_text.audio import AudioFile
from genjobs.models.speech_to_text.diarize import SpeakerEmbedder, VoicePrints, assign_speakers
from genjobs.models.speech_to_text.events import EventStream, EventTagger
from genjobs.models.speech_to_text.languages import text_language_probability, to_iso3, to_whisper
from genjobs.models.speech_to_text.recognize import Recognizer, Word
from genjobs.models.speech_to_text.schema import SpeechToTextInput
from genjobs.models.speech_to_text.settings import SpeechToTextSettings
from genjobs.models.speech_to_text.weights import shipped_yamnet, whisper_source
from genjobs.runtime.model import TaskFailed

# Share of a window's processing time taken by each stage (for progress reports).
RECOGNITION_SHARE, VOICE_SHARE = 0.8, 0.1


@dataclass(frozen=True)
class Engines:
    """The loaded models of a worker process, shared by all of its tasks."""

    config: SpeechToTextSettings
    device: str
    recognizer: Recognizer
    speakers: SpeakerEmbedder
    tagger: EventTagger


def load(config: SpeechToTextSettings, cache_dir: Path) -> Engines:
    import ctranslate2

    device = config.device
    if device == "auto":
        device = "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"
    compute_type = config.compute_type
    if compute_type == "default":  # the shipped weights are float16: int8 is faster on a CPU
        compute_type = "float16" if device == "cuda" else "int8"
    recognizer = Recognizer(
        whisper_source(config.model, cache_dir),
        device,
        compute_type,
        config.cpu_threads,
        config.allow_download,
    )
    return Engines(
        config, device, recognizer, SpeakerEmbedder(), EventTagger(shipped_yamnet(cache_dir))
    )


def transcribe(
    engines: Engines,
    path: Path,
    request: SpeechToTextInput,
    progress: Callable[[float], None],
) -> dict[str, Any]:
    """ElevenLabs' resultObject for the audio at ``path``. ``progress(fraction)`` is called
    often; it may raise (cancellation) to stop the work there."""
    config = engines.config
    language = to_whisper(request.language_code) if request.language_code else None
    if language not in (None, "en") and not engines.recognizer.multilingual:
        raise TaskFailed(
            "unsupported_language",
            f"the configured weights ({config.model}) only transcribe English",
        )
    detected, probability = language, 1.0
    words: list[Word] = []
    prints = VoicePrints()
    diarize = request.diarize and request.num_speakers != 1
    events = EventStream(engines.tagger) if request.tag_audio_events else None

    with AudioFile(path, config.max_duration_s) as audio:
        for window in audio.windows(config.window_s):

            def report(
                stage: float, start: float = window.start_s, end: float = window.end_s
            ) -> None:
                done = start + stage * (end - start)
                progress(min(1.0, done / max(audio.estimated_duration_s(), end)))

            text = engines.recognizer.transcribe(
                window, language, config.beam_size, lambda f: report(RECOGNITION_SHARE * f)
            )
            if language is None:
                # Detected per window until one has speech; then kept for the rest, so the
                # whole transcript is in one language.
                detected, probability = text.language, text.language_probability
                if text.words:
                    language = text.language
            _append_in_order(words, text.words)
            if diarize:
                engines.speakers.add(prints, window, text.words)
            report(RECOGNITION_SHARE + VOICE_SHARE)
            if events is not None:  # the words around the window, for where speech is
                events.add(window, words[-len(text.words) - 50 :])
            report(1.0)

    if diarize:
        assign_speakers(words, prints, request.num_speakers)
    code = detected or "en"
    if not request.language_code and not engines.recognizer.multilingual:
        # English-only weights cannot detect; say how English the text reads instead.
        probability = text_language_probability(" ".join(w.text for w in words[:400]), code)
    found = events.finish(words[-50:]) if events is not None else []
    return assemble.elevenlabs_result(
        words, found, to_iso3(code), probability, request.timestamps_granularity
    )


def _append_in_order(words: list[Word], new: list[Word]) -> None:
    """Append, keeping timings monotonic (Whisper's word times may overlap a little)."""
    for word in new:
        if words and word.start < words[-1].end:
            word.start = words[-1].end
            word.end = max(word.end, word.start)
        words.append(word)

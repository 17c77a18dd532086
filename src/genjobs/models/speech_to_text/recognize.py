"""Recognition with faster-whisper: segments with word timings and log-probabilities."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from genjobs.models.speech_to_text.audio import SAMPLE_RATE


@dataclass
class Word:
    text: str  # as Whisper writes it, punctuation attached, no leading space
    start: float
    end: float
    logprob: float
    speaker: int = 0


@dataclass
class Transcript:
    language: str  # Whisper's code
    language_probability: float
    words: list[Word]
    speech: list[tuple[float, float]]  # speech segments (s), for diarization and events


def load(model_path: str, device: str, compute_type: str, cpu_threads: int) -> object:
    from faster_whisper import WhisperModel

    return WhisperModel(
        model_path, device=device, compute_type=compute_type, cpu_threads=cpu_threads
    )


def transcribe(
    whisper: object,
    audio: np.ndarray,
    language: str | None,
    beam_size: int,
    on_progress: Callable[[float], None],
) -> Transcript:
    """Transcribe; ``on_progress(fraction)`` is called per segment (and may raise to stop)."""
    from faster_whisper import WhisperModel

    assert isinstance(whisper, WhisperModel)
    duration = audio.size / SAMPLE_RATE
    segments, info = whisper.transcribe(
        audio,
        language=language,
        beam_size=beam_size,
        word_timestamps=True,
        vad_filter=True,  # Silero VAD (shipped): skips silence and music-only stretches
        condition_on_previous_text=False,  # avoids runaway repetition on long audio
    )
    words: list[Word] = []
    speech: list[tuple[float, float]] = []
    for segment in segments:
        speech.append((segment.start, segment.end))
        for word in segment.words or []:
            text = word.word.strip()
            if not text:
                continue
            start, end = max(0.0, word.start), min(duration, max(word.end, word.start))
            if words and start < words[-1].end:
                start = words[-1].end  # keep timings monotonic
            words.append(Word(text, start, max(start, end), math.log(max(word.probability, 1e-9))))
        on_progress(min(1.0, segment.end / max(duration, 1e-6)))
    return Transcript(info.language, float(info.language_probability), words, speech)

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


CHUNK_S = 300.0  # Whisper's buffers grow with the input: long audio goes in 5-minute pieces
CUT_SEARCH_S = 5.0  # cut at the quietest 20 ms within this distance of the chunk boundary


def chunk_bounds(audio: np.ndarray) -> list[tuple[int, int]]:
    """Sample ranges of at most ~CHUNK_S, each cut where the audio is quietest nearby."""
    chunk, search, frame = int(CHUNK_S * SAMPLE_RATE), int(CUT_SEARCH_S * SAMPLE_RATE), 320
    bounds, start = [], 0
    while audio.size - start > chunk + search:
        window = audio[start + chunk - search : start + chunk + search]
        energy = np.square(window[: window.size // frame * frame].reshape(-1, frame)).mean(axis=1)
        cut = start + chunk - search + int(np.argmin(energy)) * frame + frame // 2
        bounds.append((start, cut))
        start = cut
    bounds.append((start, audio.size))
    return bounds


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
    words: list[Word] = []
    speech: list[tuple[float, float]] = []
    probability = 1.0
    for first, last in chunk_bounds(audio):
        offset = first / SAMPLE_RATE
        segments, info = whisper.transcribe(
            audio[first:last],
            language=language,
            beam_size=beam_size,
            word_timestamps=True,
            vad_filter=True,  # Silero VAD (shipped): skips silence and music-only stretches
            condition_on_previous_text=False,  # avoids runaway repetition on long audio
        )
        if language is None:  # detected on the first chunk, then kept for the rest
            language, probability = info.language, float(info.language_probability)
        for segment in segments:
            speech.append((offset + segment.start, offset + segment.end))
            for word in segment.words or []:
                text = word.word.strip()
                if not text:
                    continue
                start = max(0.0, offset + word.start)
                end = min(duration, max(offset + word.end, start))
                if words and start < words[-1].end:
                    start = words[-1].end  # keep timings monotonic
                logprob = math.log(max(word.probability, 1e-9))
                words.append(Word(text, start, max(start, end), logprob))
            on_progress(min(1.0, (offset + segment.end) / max(duration, 1e-6)))
    return Transcript(language or "en", probability, words, speech)

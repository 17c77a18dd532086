"""Recognition with faster-whisper: words with timings and log-probabilities, window by
window, and the spoken language."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from genjobs.models.speech_to_text.audio import Window


@dataclass
class Word:
    text: str  # as Whisper writes it, punctuation attached, without the leading space
    start: float  # seconds in the whole audio
    end: float
    logprob: float
    space_before: bool = True  # False inside scripts written without spaces (zh, ja, th)
    speaker: int = 0


@dataclass(frozen=True)
class WindowText:
    words: list[Word]
    language: str  # Whisper's code
    language_probability: float


class Recognizer:
    def __init__(
        self,
        source: str,
        device: str,
        compute_type: str,
        cpu_threads: int,
        allow_download: bool,
    ) -> None:
        from faster_whisper import WhisperModel

        self._whisper = WhisperModel(
            source,
            device=device,
            compute_type=compute_type,
            cpu_threads=cpu_threads,
            local_files_only=not allow_download,
        )
        self.multilingual: bool = self._whisper.model.is_multilingual

    def transcribe(
        self,
        window: Window,
        language: str | None,
        beam_size: int,
        on_progress: Callable[[float], None],
    ) -> WindowText:
        """The words of one window in its language (detected when None).

        ``on_progress(fraction of the window)`` is called after each segment; it may raise
        (cancellation) to stop the recognition there.
        """
        offset, end = window.start_s, window.end_s
        segments, info = self._whisper.transcribe(
            window.samples,
            language=language,
            beam_size=beam_size,
            word_timestamps=True,
            vad_filter=True,  # Silero VAD (shipped): no text is made up over silence or music
            condition_on_previous_text=False,  # avoids runaway repetition on long audio
        )
        words: list[Word] = []
        for segment in segments:
            for word in segment.words or []:
                text = word.word.strip()
                if not text:
                    continue
                start = min(end, offset + word.start)
                words.append(
                    Word(
                        text=text,
                        start=start,
                        end=min(end, max(start, offset + word.end)),
                        logprob=math.log(max(word.probability, 1e-9)),
                        space_before=word.word[:1].isspace(),
                    )
                )
            on_progress(min(1.0, segment.end / max(window.end_s - offset, 1e-6)))
        return WindowText(words, info.language, float(info.language_probability))

"""ElevenLabs' response: words, spacing and audio events in time order; joined, their
texts give ``text`` exactly."""

from __future__ import annotations

from typing import Any

from genjobs.models.speech_to_text.events import AudioEvent
from genjobs.models.speech_to_text.languages import to_iso3
from genjobs.models.speech_to_text.recognize import Transcript


def _entry(
    text: str, start: float, end: float, kind: str, speaker: int, logprob: float
) -> dict[str, Any]:
    return {
        "text": text,
        "start": round(start, 3),
        "end": round(max(start, end), 3),
        "type": kind,
        "speaker_id": f"speaker_{speaker}",
        "logprob": round(logprob, 4),
    }


def elevenlabs_result(
    transcript: Transcript, events: list[AudioEvent], granularity: str
) -> dict[str, Any]:
    items: list[tuple[float, float, str, str, int, float]] = [
        (w.start, w.end, "word", w.text, w.speaker, w.logprob) for w in transcript.words
    ]
    for event in events:
        before = [w for w in transcript.words if w.start <= event.start]
        speaker = before[-1].speaker if before else 0
        items.append((event.start, event.end, "audio_event", event.tag, speaker, 0.0))
    items.sort(key=lambda item: item[0])

    words: list[dict[str, Any]] = []
    for start, end, kind, text, speaker, logprob in items:
        if words:
            # An audio event may begin before the word it follows has ended: the spacing
            # then sits at the event's start, so every start stays in time order.
            previous_end = min(words[-1]["end"], start)
            words.append(_entry(" ", previous_end, start, "spacing", speaker, 0.0))
        entry = _entry(text, start, end, kind, speaker, logprob)
        if granularity == "character" and kind == "word":
            step = (entry["end"] - entry["start"]) / max(1, len(text))
            entry["characters"] = [
                {
                    "text": char,
                    "start": round(start + i * step, 3),
                    "end": round(start + (i + 1) * step, 3),
                }
                for i, char in enumerate(text)
            ]
        words.append(entry)
    return {
        "language_code": to_iso3(transcript.language),
        "language_probability": round(transcript.language_probability, 4),
        "text": "".join(entry["text"] for entry in words),
        "words": [] if granularity == "none" else words,
    }

"""ElevenLabs' response: words, the spacing between them and audio events, in time order;
joined, their texts give ``text`` exactly."""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import Any

from genjobs.models.speech_to_text.events import AudioEvent
from genjobs.models.speech_to_text.recognize import Word

MIN_EVENT_S = 0.1  # what is left of an event between two words, to be worth writing


@dataclass(frozen=True)
class Item:
    kind: str  # word | audio_event
    text: str
    start: float
    end: float
    speaker: int
    logprob: float
    space_before: bool


def _items(words: list[Word], events: list[AudioEvent]) -> list[Item]:
    """Words and events in time order, without overlaps (so spacing never runs backwards):
    an event is trimmed to the silence between the words around it."""
    items = [
        Item("word", w.text, w.start, w.end, w.speaker, w.logprob, w.space_before) for w in words
    ]
    starts = [w.start for w in words]
    for event in events:
        following = bisect.bisect_right(starts, event.start)
        before = words[following - 1] if following else None
        start = max(event.start, before.end) if before else event.start
        end = min(event.end, words[following].start) if following < len(words) else event.end
        if end - start >= MIN_EVENT_S:
            # An event takes the speaker of the word before it (there is no voice in it).
            speaker = before.speaker if before else 0
            items.append(Item("audio_event", event.tag, start, end, speaker, 0.0, True))
    items.sort(key=lambda item: item.start)  # stable: a word before an event at the same time
    return items


def _timed(entry: dict[str, Any], start: float, end: float, timed: bool) -> dict[str, Any]:
    entry["start"] = round(start, 3) if timed else None
    entry["end"] = round(max(start, end), 3) if timed else None
    return entry


def elevenlabs_result(
    words: list[Word],
    events: list[AudioEvent],
    language_code: str,
    language_probability: float,
    granularity: str,
) -> dict[str, Any]:
    """``language_code`` is ISO 639-3; ``granularity`` is none, word or character."""
    timed = granularity != "none"
    entries: list[dict[str, Any]] = []
    previous: Item | None = None
    for item in _items(words, events):
        if previous is not None and (item.space_before or item.kind != "word"):
            spacing: dict[str, Any] = {
                "text": " ",
                "type": "spacing",
                "speaker_id": f"speaker_{previous.speaker}",
                "logprob": 0.0,
            }
            entries.append(_timed(spacing, previous.end, item.start, timed))
        entry: dict[str, Any] = {
            "text": item.text,
            "type": item.kind,
            "speaker_id": f"speaker_{item.speaker}",
            "logprob": round(item.logprob, 4),
        }
        entries.append(_timed(entry, item.start, item.end, timed))
        if granularity == "character" and item.kind == "word":
            entry["characters"] = _characters(item)
        previous = item
    return {
        "language_code": language_code,
        "language_probability": round(language_probability, 4),
        "text": "".join(entry["text"] for entry in entries),
        "words": entries,
    }


def _characters(item: Item) -> list[dict[str, Any]]:
    """Whisper times words, not characters: the word's time is shared out evenly."""
    step = (max(item.start, item.end) - item.start) / max(1, len(item.text))
    return [
        {
            "text": char,
            "start": round(item.start + i * step, 3),
            "end": round(item.start + (i + 1) * step, 3),
        }
        for i, char in enumerate(item.text)
    ]

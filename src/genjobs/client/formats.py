"""A speech-to-text transcript (ElevenLabs format) as plain text, SRT or WebVTT."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MAX_CUE_S = 7.0
MAX_CUE_CHARS = 84
SENTENCE_ENDS = (".", "?", "!", "…")


@dataclass
class Cue:
    start: float
    end: float
    speaker: str
    text: str


def cues(transcript: dict[str, Any]) -> list[Cue]:
    """Group words (and audio events) into cues: a new cue at a change of speaker, after a
    sentence end, or when a cue would pass 7 s or 84 characters."""
    result: list[Cue] = []
    current: Cue | None = None
    for entry in transcript.get("words", []):
        if entry["type"] == "spacing":
            continue
        text, speaker = entry["text"], entry.get("speaker_id", "")
        if current is not None and (
            speaker != current.speaker
            or current.text.endswith(SENTENCE_ENDS)
            or entry["end"] - current.start > MAX_CUE_S
            or len(current.text) + 1 + len(text) > MAX_CUE_CHARS
        ):
            result.append(current)
            current = None
        if current is None:
            current = Cue(entry["start"], entry["end"], speaker, text)
        else:
            current.text += " " + text
            current.end = entry["end"]
    if current is not None:
        result.append(current)
    return result


def _speakers(transcript: dict[str, Any]) -> bool:
    return len({w.get("speaker_id") for w in transcript.get("words", [])}) > 1


def _timestamp(seconds: float, separator: str) -> str:
    millis = round(seconds * 1000)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


def _label(cue: Cue, with_speakers: bool) -> str:
    return f"[{cue.speaker}] {cue.text}" if with_speakers else cue.text


def to_text(transcript: dict[str, Any]) -> str:
    if not _speakers(transcript):
        return str(transcript.get("text", "")).strip() + "\n"
    lines: list[str] = []
    for cue in cues(transcript):
        if lines and lines[-1].startswith(f"[{cue.speaker}] "):
            lines[-1] += " " + cue.text
        else:
            lines.append(_label(cue, True))
    return "\n".join(lines) + "\n"


def to_srt(transcript: dict[str, Any]) -> str:
    with_speakers = _speakers(transcript)
    blocks = [
        f"{n}\n{_timestamp(c.start, ',')} --> {_timestamp(c.end, ',')}\n"
        f"{_label(c, with_speakers)}\n"
        for n, c in enumerate(cues(transcript), start=1)
    ]
    return "\n".join(blocks)


def to_vtt(transcript: dict[str, Any]) -> str:
    with_speakers = _speakers(transcript)
    blocks = [
        f"{_timestamp(c.start, '.')} --> {_timestamp(c.end, '.')}\n"
        + (f"<v {c.speaker}>{c.text}" if with_speakers else c.text)
        + "\n"
        for c in cues(transcript)
    ]
    return "WEBVTT\n\n" + "\n".join(blocks)


FORMATS = {"txt": to_text, "srt": to_srt, "vtt": to_vtt}

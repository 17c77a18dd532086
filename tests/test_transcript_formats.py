"""Transcripts (ElevenLabs format) as text, SRT and WebVTT."""

from __future__ import annotations

from typing import Any

from genjobs.client.formats import cues, to_srt, to_text, to_vtt


def entry(
    text: str, start: float, end: float, kind: str = "word", speaker: int = 0
) -> dict[str, Any]:
    return {
        "text": text,
        "start": start,
        "end": end,
        "type": kind,
        "speaker_id": f"speaker_{speaker}",
    }


def transcript() -> dict[str, Any]:
    words = [
        entry("Hello", 0.0, 0.4),
        entry(" ", 0.4, 0.5, "spacing"),
        entry("there.", 0.5, 0.9),
        entry(" ", 0.9, 1.2, "spacing"),
        entry("(laughter)", 1.2, 2.0, "audio_event"),
        entry(" ", 2.0, 2.1, "spacing"),
        entry("Hi", 2.1, 2.3, speaker=1),
        entry(" ", 2.3, 2.4, "spacing", 1),
        entry("back!", 2.4, 2.9, speaker=1),
        entry(" ", 2.9, 3725.0, "spacing", 1),
        entry("Later.", 3725.0, 3725.5, speaker=1),
    ]
    return {"text": "".join(w["text"] for w in words), "words": words}


def test_cues_break_at_sentences_and_speakers() -> None:
    found = cues(transcript())
    assert [c.text for c in found] == ["Hello there.", "(laughter)", "Hi back!", "Later."]
    assert [c.speaker for c in found] == ["speaker_0", "speaker_0", "speaker_1", "speaker_1"]


def test_srt_and_vtt() -> None:
    srt = to_srt(transcript())
    assert srt.startswith("1\n00:00:00,000 --> 00:00:00,900\n[speaker_0] Hello there.\n")
    assert "3\n00:00:02,100 --> 00:00:02,900\n[speaker_1] Hi back!" in srt
    assert "4\n01:02:05,000 --> 01:02:05,500\n[speaker_1] Later." in srt
    vtt = to_vtt(transcript())
    assert vtt.startswith("WEBVTT\n\n00:00:00.000 --> 00:00:00.900\n<v speaker_0>Hello there.\n")


def test_text_groups_by_speaker() -> None:
    expected = "[speaker_0] Hello there. (laughter)\n[speaker_1] Hi back! Later.\n"
    assert to_text(transcript()) == expected
    single = {"text": "Just one.", "words": [entry("Just", 0, 1), entry("one.", 1, 2)]}
    assert to_text(single) == "Just one.\n"


def test_long_monologue_is_split_into_short_cues() -> None:
    words = [entry(f"word{i}", i * 0.5, i * 0.5 + 0.4) for i in range(60)]
    found = cues({"words": words})
    assert len(found) > 3
    assert all(c.end - c.start <= 7.0 and len(c.text) <= 84 for c in found)

"""Accuracy, speed and memory of elevenlabs/speech-to-text against pocketsphinx.

For each weight set (Whisper base, tiny.en) and for pocketsphinx (its shipped en-us model)
as a baseline, in one run, each in its own child process: word error rate on real
recordings with known transcripts (moonshine-voice's assets), the real-time factor of the
whole pipeline (seconds of processing per second of audio: decoding, recognition,
diarization and event tagging; model loading excluded) and peak memory. Then a long file
(the recordings repeated to --long-minutes) through the full pipeline with base, for memory.

WER: jiwer over lowercased words with punctuation removed.

    .venv/bin/python bench/stt.py [--long-minutes 10]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path

import numpy as np

ASSETS = Path(__import__("moonshine_voice").__file__).parent / "assets"
RECORDINGS = {
    "beckett.wav": "Ever tried. Ever failed. No matter. Try again. Fail again. Fail better.",
    "two_cities.wav": (
        "It was the best of times, it was the worst of times, it was the age of wisdom, it "
        "was the age of foolishness, it was the epoch of belief, it was the epoch of "
        "incredulity, it was the season of Light, it was the season of Darkness, it was the "
        "spring of hope, it was the winter of despair, we had everything before us, we had "
        "nothing before us, we were all going direct to Heaven, we were all going direct the "
        "other way - in short, the period was so far like the present period, that some of "
        "its noisiest authorities insisted on its being received, for good or for evil, in "
        "the superlative degree of comparison only."
    ),
}


def words(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9' ]", " ", text.lower()).split())


def genjobs_child(weights: str, files: list[str]) -> dict[str, object]:
    os.environ["GENJOBS_STT_MODEL"] = weights
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
    from genjobs.config import Settings, use_settings
    from genjobs.models.speech_to_text import SpeechToTextModel, audio, diarize, recognize

    use_settings(Settings(data_dir=Path(tempfile.mkdtemp())))
    model = SpeechToTextModel()
    model.setup()
    out: dict[str, object] = {}
    for name in files:
        started = time.perf_counter()
        samples = audio.decode(Path(name), 1e9)
        transcript = recognize.transcribe(model.whisper, samples, None, 5, lambda f: None)
        diarize.assign_speakers(model.speakers, samples, transcript.words, None)
        model.tagger.tag(samples, transcript.words)
        elapsed = time.perf_counter() - started
        text = " ".join(w.text for w in transcript.words)
        out[name] = {"text": text, "seconds": elapsed, "duration": samples.size / 16000}
    return out


def pocketsphinx_child(files: list[str]) -> dict[str, object]:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
    from pocketsphinx import Decoder

    from genjobs.models.speech_to_text import audio

    decoder = Decoder(samprate=16000)
    out: dict[str, object] = {}
    for name in files:
        started = time.perf_counter()
        samples = audio.decode(Path(name), 1e9)
        pcm = (np.clip(samples, -1, 1) * 32767).astype(np.int16).tobytes()
        decoder.start_utt()
        decoder.process_raw(pcm, full_utt=True)
        decoder.end_utt()
        hypothesis = decoder.hyp()
        elapsed = time.perf_counter() - started
        text = hypothesis.hypstr if hypothesis else ""
        out[name] = {"text": text, "seconds": elapsed, "duration": samples.size / 16000}
    return out


def run_child(args: list[str]) -> tuple[dict[str, dict[str, float | str]], float]:
    """Run this script as a child; returns its JSON and its peak RSS in MB."""
    process = subprocess.Popen(
        [sys.executable, __file__, "--child", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert process.stdout is not None
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    if status != 0:
        raise RuntimeError(f"child {args} failed")
    return json.loads(output), usage.ru_maxrss / 1024


def long_file(minutes: float, directory: Path) -> Path:
    from genjobs.models.speech_to_text import audio

    pieces = [audio.decode(ASSETS / name, 1e9) for name in RECORDINGS]
    one_round = np.concatenate([np.concatenate([p, np.zeros(8000, np.float32)]) for p in pieces])
    repeats = int(np.ceil(minutes * 60 * 16000 / one_round.size))
    samples = np.tile(one_round, repeats)[: int(minutes * 60 * 16000)]
    path = directory / "long.wav"
    with wave.open(str(path), "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(16000)
        handle.writeframes((samples * 32767).astype(np.int16).tobytes())
    return path


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        kind, files = sys.argv[2], sys.argv[3:]
        result = pocketsphinx_child(files) if kind == "pocketsphinx" else genjobs_child(kind, files)
        print(json.dumps(result))
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("--long-minutes", type=float, default=10.0)
    options = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
    import jiwer

    files = [str(ASSETS / name) for name in RECORDINGS]
    references = " ".join(words(text) for text in RECORDINGS.values())
    print(
        f"speech-to-text benchmark ({os.cpu_count()} CPUs; {len(files)} real recordings, "
        f"{sum(len(t.split()) for t in RECORDINGS.values())} words)"
    )
    print(f"{'system':<34} {'WER':>6} {'RTF':>6} {'peak MB':>8}")
    for label, kind in (
        ("genjobs base (+diarize, events)", "base"),
        ("genjobs tiny.en (+diarize, events)", "tiny.en"),
        ("pocketsphinx en-us (baseline)", "pocketsphinx"),
    ):
        result, peak = run_child([kind, *files])
        hypothesis = " ".join(words(str(result[f]["text"])) for f in files)
        error = jiwer.wer(references, hypothesis)
        seconds = sum(float(result[f]["seconds"]) for f in files)
        duration = sum(float(result[f]["duration"]) for f in files)
        print(f"{label:<34} {error:>6.1%} {seconds / duration:>6.3f} {peak:>8.0f}")
    if options.long_minutes > 0:
        with tempfile.TemporaryDirectory() as directory:
            path = long_file(options.long_minutes, Path(directory))
            result, peak = run_child(["base", str(path)])
            item = result[str(path)]
            seconds, duration = float(item["seconds"]), float(item["duration"])
            print(
                f"long audio, base: {options.long_minutes:g} min in {seconds:.0f} s "
                f"(RTF {seconds / duration:.3f}), peak {peak:.0f} MB"
            )


if __name__ == "__main__":
    main()

"""Test audio made here: espeak-ng speech and synthesized music (numpy)."""

from __future__ import annotations

import subprocess
import wave
from pathlib import Path

import numpy as np

RATE = 16_000


def speak(text: str, voice: str, path: Path, pitch: int = 50) -> Path:
    subprocess.run(["espeak-ng", "-v", voice, "-p", str(pitch), "-w", str(path), text], check=True)
    return path


def music(seconds: float) -> np.ndarray:
    """A chord progression with harmonics, a bass line and a beat: YAMNet hears music."""
    t = np.arange(int(seconds * RATE)) / RATE
    out = np.zeros_like(t)
    chords = [
        (261.6, 329.6, 392.0),
        (220.0, 261.6, 329.6),
        (174.6, 220.0, 261.6),
        (196.0, 246.9, 293.7),
    ]
    for i, chord in enumerate(chords * int(seconds)):
        start, end = i * 0.5, (i + 1) * 0.5
        if start >= seconds:
            break
        mask = (t >= start) & (t < end)
        local = t[mask] - start
        envelope = np.exp(-3 * local)
        for note in chord:
            for harmonic in (1, 2, 3):
                out[mask] += envelope * np.sin(2 * np.pi * note * harmonic * local) / harmonic
        out[mask] += 0.8 * envelope * np.sin(2 * np.pi * chord[0] / 2 * local)
    beat = (np.sin(2 * np.pi * 2 * t) > 0.95).astype(float) * np.random.default_rng(1).normal(
        0, 0.3, t.size
    )
    out += beat
    return (0.25 * out / np.abs(out).max()).astype(np.float32)


def read_wav(path: Path) -> np.ndarray:
    with wave.open(str(path)) as handle:
        rate = handle.getframerate()
        data = np.frombuffer(handle.readframes(handle.getnframes()), np.int16).astype(np.float32)
    data /= 32768
    if rate != RATE:  # espeak-ng speaks at 22050 Hz
        positions = np.arange(0, data.size, rate / RATE)
        data = np.interp(positions, np.arange(data.size), data).astype(np.float32)
    return data


def write_wav(samples: np.ndarray, path: Path) -> Path:
    with wave.open(str(path), "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(RATE)
        handle.writeframes((np.clip(samples, -1, 1) * 32767).astype(np.int16).tobytes())
    return path

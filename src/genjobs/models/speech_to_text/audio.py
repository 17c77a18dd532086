"""Decoding any audio (or the audio track of a video) to 16 kHz mono float32 with PyAV."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import av
import numpy as np

from genjobs.runtime.model import TaskFailed

SAMPLE_RATE = 16_000
MIN_SAMPLES = SAMPLE_RATE // 10  # under 0.1 s there is nothing to transcribe


def decode(
    path: Path, max_duration_s: float, on_progress: Callable[[float], None] | None = None
) -> np.ndarray:
    """The first audio stream of ``path`` as 16 kHz mono float32 in [-1, 1].

    Raises TaskFailed ``invalid_audio`` (no decodable audio), ``empty_audio`` or
    ``audio_too_long``; decoding stops as soon as the limit is passed.
    """
    limit = int(max_duration_s * SAMPLE_RATE)
    chunks: list[np.ndarray] = []
    total = 0
    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                raise TaskFailed("invalid_audio", "the file has no audio stream")
            stream = container.streams.audio[0]
            duration_s = 0.0
            if stream.duration and stream.time_base:
                duration_s = float(stream.duration * stream.time_base)
            resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    samples = out.to_ndarray().reshape(-1)
                    chunks.append(samples)
                    total += samples.size
                if total > limit:
                    raise TaskFailed(
                        "audio_too_long",
                        f"the audio is longer than the limit of {max_duration_s:g} s",
                    )
                if on_progress is not None and duration_s:
                    on_progress(min(1.0, total / SAMPLE_RATE / duration_s))
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray().reshape(-1))
                total += chunks[-1].size
    except av.FFmpegError as exc:
        raise TaskFailed("invalid_audio", f"the file is not decodable audio ({exc})") from exc
    if total < MIN_SAMPLES:
        raise TaskFailed("empty_audio", "the audio is empty (under 0.1 s of sound)")
    return np.concatenate(chunks).astype(np.float32, copy=False)

"""Streaming decode of any audio (or the audio track of a video) to 16 kHz mono float32
with PyAV, handed out in windows of bounded length, each cut at a quiet moment so that no
word is split between two windows."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

import av
import numpy as np

from genjobs.runtime.model import TaskFailed

SAMPLE_RATE = 16_000
MIN_SAMPLES = SAMPLE_RATE // 10  # under 0.1 s there is nothing to transcribe
CUT_FRAME = SAMPLE_RATE // 50  # windows are cut at the quietest 20 ms near their boundary


@dataclass(frozen=True)
class Window:
    start: int  # index of the first sample in the whole audio
    samples: np.ndarray  # float32, mono, SAMPLE_RATE

    @property
    def start_s(self) -> float:
        return self.start / SAMPLE_RATE

    @property
    def end_s(self) -> float:
        return (self.start + self.samples.size) / SAMPLE_RATE


class AudioFile:
    """An open audio file. Raises TaskFailed ``invalid_audio`` (no decodable audio),
    ``empty_audio`` or ``audio_too_long`` as soon as it can tell."""

    def __init__(self, path: Path, max_duration_s: float) -> None:
        self.max_duration_s = max_duration_s
        self.decoded_s = 0.0
        self._file: BinaryIO = path.open("rb")
        self._size = path.stat().st_size
        if self._size == 0:
            self._file.close()
            raise TaskFailed("empty_audio", "the file is empty")
        try:
            self._container = av.open(self._file, "r")
        except (av.FFmpegError, ValueError) as exc:
            self._file.close()
            raise TaskFailed("invalid_audio", f"the file is not audio or video ({exc})") from exc
        if not self._container.streams.audio:
            self.close()
            raise TaskFailed("invalid_audio", "the file has no audio track")
        self._stream = self._container.streams.audio[0]
        self.duration_s = self._declared_duration()
        if self.duration_s is not None and self.duration_s > max_duration_s + 1:
            self.close()
            raise self._too_long()

    def _declared_duration(self) -> float | None:
        """The duration the container states (some streams, e.g. browser webm, have none)."""
        stream = self._stream
        if stream.duration and stream.time_base:
            return float(stream.duration * stream.time_base)
        if self._container.duration:
            return self._container.duration / av.time_base
        return None

    def _too_long(self) -> TaskFailed:
        return TaskFailed(
            "audio_too_long", f"the audio is longer than the limit of {self.max_duration_s:g} s"
        )

    def estimated_duration_s(self) -> float:
        """The stated duration, or one extrapolated from how much of the file was read."""
        if self.duration_s:
            return self.duration_s
        read = self._file.tell() / self._size
        return self.decoded_s / read if read > 0 and self.decoded_s else 0.0

    def _chunks(self) -> Iterator[np.ndarray]:
        """Decoded 16 kHz mono pieces; packets that fail to decode are skipped, as ffmpeg
        does, unless nothing at all decodes."""
        resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
        limit = int((self.max_duration_s + 1) * SAMPLE_RATE)
        total, failures, error = 0, 0, ""
        try:
            for packet in self._container.demux(self._stream):
                try:
                    frames = packet.decode()
                except av.FFmpegError as exc:
                    failures, error = failures + 1, str(exc)
                    continue
                for frame in frames:
                    for out in resampler.resample(frame):
                        samples = out.to_ndarray().reshape(-1)
                        total += samples.size
                        self.decoded_s = total / SAMPLE_RATE
                        if total > limit:
                            raise self._too_long()
                        yield samples
            for out in resampler.resample(None):
                yield out.to_ndarray().reshape(-1)
        except av.FFmpegError as exc:
            if total == 0:
                raise TaskFailed("invalid_audio", f"the audio cannot be decoded ({exc})") from exc
            # A damaged tail: keep what was decoded, as a player would.
        if total == 0 and failures:
            raise TaskFailed("invalid_audio", f"the audio cannot be decoded ({error})")

    def windows(self, window_s: float) -> Iterator[Window]:
        """The audio in consecutive windows of about ``window_s`` seconds; the last one
        holds the rest. Only one window (plus the cut margin) is in memory at a time."""
        length = int(window_s * SAMPLE_RATE)
        margin = min(5 * SAMPLE_RATE, length // 10)  # where to look for a quiet cut
        pending: list[np.ndarray] = []
        buffered, start = 0, 0
        for chunk in self._chunks():
            pending.append(chunk)
            buffered += chunk.size
            if buffered < length + margin:
                continue
            buffer = np.concatenate(pending)
            cut = _quiet_cut(buffer, length - margin, length + margin)
            yield Window(start, buffer[:cut].copy())
            start += cut
            pending, buffered = [buffer[cut:]], buffer.size - cut
        if start + buffered < MIN_SAMPLES:
            raise TaskFailed("empty_audio", "the audio is empty (less than 0.1 s of sound)")
        if buffered:
            yield Window(start, np.concatenate(pending))

    def close(self) -> None:
        self._container.close()
        self._file.close()

    def __enter__(self) -> AudioFile:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _quiet_cut(buffer: np.ndarray, low: int, high: int) -> int:
    """The middle of the quietest 20 ms between samples ``low`` and ``high``."""
    region = buffer[low : low + (high - low) // CUT_FRAME * CUT_FRAME]
    energy = np.square(region.reshape(-1, CUT_FRAME)).mean(axis=1)
    return low + int(np.argmin(energy)) * CUT_FRAME + CUT_FRAME // 2

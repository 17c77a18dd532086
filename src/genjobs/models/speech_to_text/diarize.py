"""Who spoke when: resemblyzer speaker embeddings over sliding windows of the audio,
clustered (agglomerative, cosine); each word takes the speaker of the windows around it."""

from __future__ import annotations

from collections import Counter

import numpy as np

from genjobs.models.speech_to_text.audio import SAMPLE_RATE
from genjobs.models.speech_to_text.recognize import Word

WINDOWS_PER_SECOND = 2.0  # resemblyzer's partial windows are 1.6 s long
BLOCK_SAMPLES = 60 * SAMPLE_RATE
# Cosine distance (average linkage) below which windows are one speaker, and the smallest
# share of speech a speaker must have; tuned on real recordings and espeak voices (see
# tests/test_stt.py): one reader's windows merge below ~0.3, two voices stay above ~0.37.
SAME_SPEAKER_DISTANCE = 0.34
MIN_SPEAKER_SHARE = 0.1


def load_encoder() -> object:
    from resemblyzer import VoiceEncoder

    return VoiceEncoder("cpu", verbose=False)


def assign_speakers(
    encoder: object, audio: np.ndarray, words: list[Word], num_speakers: int | None
) -> None:
    """Set ``word.speaker`` (0, 1, ... in order of first appearance) on every word."""
    from resemblyzer import VoiceEncoder
    from resemblyzer.audio import normalize_volume
    from scipy.cluster.hierarchy import fcluster, linkage

    assert isinstance(encoder, VoiceEncoder)
    if len(words) < 2 or num_speakers == 1:
        return
    wav = normalize_volume(audio, -30, increase_only=True)  # no trimming: keeps the timing
    partials, spans = _embed_windows(encoder, wav)
    speech = [i for i, span in enumerate(spans) if _speech_share(span, words) >= 0.4]
    if len(speech) < 2:
        return
    vectors = partials[speech]
    tree = linkage(vectors, method="average", metric="cosine")
    if num_speakers:
        labels = fcluster(tree, t=min(num_speakers, len(speech)), criterion="maxclust")
    else:
        labels = fcluster(tree, t=SAME_SPEAKER_DISTANCE, criterion="distance")
        labels = _absorb_small_clusters(vectors, labels)
    window_label = dict(zip(speech, labels, strict=True))
    previous = None
    for word in words:
        middle = (word.start + word.end) / 2
        votes = Counter(window_label[i] for i in speech if spans[i][0] <= middle <= spans[i][1])
        label = votes.most_common(1)[0][0] if votes else previous
        word.speaker = -1 if label is None else int(label)
        previous = label
    _renumber_by_first_appearance(words)


def _embed_windows(
    encoder: object, wav: np.ndarray
) -> tuple[np.ndarray, list[tuple[float, float]]]:
    """Partial embeddings (1.6 s windows, WINDOWS_PER_SECOND) with their spans in seconds,
    computed block by block: resemblyzer runs all windows of a call through its LSTM at
    once, so one call over an hour of audio would need gigabytes."""
    from resemblyzer import VoiceEncoder

    assert isinstance(encoder, VoiceEncoder)
    vectors: list[np.ndarray] = []
    spans: list[tuple[float, float]] = []
    for start in range(0, wav.size, BLOCK_SAMPLES):
        block = wav[start : start + BLOCK_SAMPLES]
        if block.size < SAMPLE_RATE:  # a tail under a second adds nothing reliable
            break
        _, partials, slices = encoder.embed_utterance(
            block, return_partials=True, rate=WINDOWS_PER_SECOND, min_coverage=0.5
        )
        vectors.extend(partials)
        spans.extend(
            ((start + s.start) / SAMPLE_RATE, (start + s.stop) / SAMPLE_RATE) for s in slices
        )
    return np.asarray(vectors), spans


def _absorb_small_clusters(vectors: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Windows of a 'speaker' with under MIN_SPEAKER_SHARE of the speech (a cough, a
    noisy window) join the nearest large speaker instead."""
    counts = Counter(labels.tolist())
    large = [label for label, n in counts.items() if n >= MIN_SPEAKER_SHARE * len(labels)]
    if not large or len(large) == len(counts):
        return labels
    centroids = {label: vectors[labels == label].mean(axis=0) for label in large}
    result = labels.copy()
    for i, label in enumerate(labels):
        if label not in centroids:
            result[i] = max(centroids, key=lambda c: float(vectors[i] @ centroids[c]))
    return result


def _speech_share(span: tuple[float, float], words: list[Word]) -> float:
    start, end = span
    covered = sum(max(0.0, min(end, w.end) - max(start, w.start)) for w in words)
    return covered / max(end - start, 1e-6)


def _renumber_by_first_appearance(words: list[Word]) -> None:
    order: dict[int, int] = {}
    for word in words:
        order.setdefault(word.speaker, len(order))
    for word in words:
        word.speaker = order[word.speaker]

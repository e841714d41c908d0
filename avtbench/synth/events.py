"""Latent events of synthetic clips: which class, audible and/or visible, when, how loud, where."""
from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np

from avtbench.synth.profiles import WorldSizes


def stream_rng(seed: int, stream: str) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([int(seed) & 0xFFFFFFFF, zlib.crc32(stream.encode())]))


@dataclass
class Events:
    """E event slots for each of n clips; cls == -1 marks an empty slot."""

    cls: np.ndarray  # int64 [n, E], index into EVENT_CLASSES (synth.vocab)
    audible: np.ndarray  # bool [n, E]
    visible: np.ndarray  # bool [n, E]
    onset: np.ndarray  # int64 [n, E]
    offset: np.ndarray  # int64 [n, E], exclusive
    gain: np.ndarray  # float32 [n, E]
    where: np.ndarray  # float32 [n, E, 2], blob centre (row, col) in grid cells
    lag: np.ndarray  # int64 [n, E], segments the sound starts after the picture (negative: before)

    def take(self, rows: slice) -> "Events":
        return Events(**{k: v[rows] for k, v in vars(self).items()})

    def active(self, segments: int) -> np.ndarray:
        """bool [n, E, T]: slot filled and onset <= t < offset."""
        t = np.arange(segments)
        return (self.cls[:, :, None] >= 0) & (t >= self.onset[:, :, None]) & (t < self.offset[:, :, None])

    @property
    def audio_onset(self) -> np.ndarray:
        return self.onset + self.lag

    @property
    def audio_offset(self) -> np.ndarray:
        return self.offset + self.lag

    def audio_active(self, segments: int) -> np.ndarray:
        """bool [n, E, T]: the event sounds at t (its window shifted by its lag)."""
        t = np.arange(segments)
        return (self.audible[:, :, None] & (t >= self.audio_onset[:, :, None]) & (t < self.audio_offset[:, :, None]))


@dataclass(frozen=True)
class EventSpec:
    classes: list[int]  # event class indices (synth.vocab) to draw from
    weights: np.ndarray  # drawing weights over `classes`
    counts: tuple[float, ...]  # P(1 event), P(2 events), ...
    kinds: tuple[float, float, float]  # P(audio-visual), P(audio only), P(visual only)
    full: float  # P(an event spans the whole clip)
    min_len: int


def sample_events(rng: np.random.Generator, n: int, spec: EventSpec, sizes: WorldSizes, max_lag: int = 0) -> Events:
    """Events of n clips; lags are drawn (after everything else, so max_lag=0 leaves the other
    draws as they were) uniform in [-max_lag, max_lag] and then clipped so that the sound stays
    inside the clip and overlaps the picture by one segment at least."""
    slots, T = len(spec.counts), sizes.segments
    cls = np.full((n, slots), -1, dtype=np.int64)
    count = rng.choice(np.arange(1, slots + 1), size=n, p=spec.counts)
    p = spec.weights / spec.weights.sum()
    for i in range(n):
        cls[i, : count[i]] = np.asarray(spec.classes)[rng.choice(len(spec.classes), size=count[i], replace=False, p=p)]
    kind = rng.choice(3, size=(n, slots), p=spec.kinds)
    length = rng.integers(spec.min_len, T, size=(n, slots), endpoint=False)
    length = np.where(rng.random((n, slots)) < spec.full, T, length)
    onset = (rng.random((n, slots)) * (T - length + 1)).astype(np.int64)
    lag = np.zeros((n, slots), dtype=np.int64)
    gain = rng.uniform(0.75, 1.25, size=(n, slots)).astype(np.float32)
    where = rng.uniform(0, sizes.grid - 1, size=(n, slots, 2)).astype(np.float32)
    if max_lag > 0:
        lag = rng.integers(-max_lag, max_lag, size=(n, slots), endpoint=True)
        low = np.maximum(-onset, -(length - 1))
        high = np.minimum(T - (onset + length), length - 1)
        lag = np.clip(lag, low, high)
    return Events(
        cls=cls,
        audible=(kind != 2) & (cls >= 0),
        visible=(kind != 1) & (cls >= 0),
        onset=onset,
        offset=onset + length,
        gain=gain,
        where=where,
        lag=lag,
    )

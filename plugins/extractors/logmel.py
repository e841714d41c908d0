"""VGGish's log-mel front end, computed as the AudioSet reference computes it (numpy, float64).

Reference: `research/audioset/vggish/mel_features.py` and `vggish_input.py` of tensorflow/models (checked
against Google's copy of mel_features.py in google-coral/project-keyword-spotter, commit
43a5fd0578c75c9140b4f057de74f2dbac96ceff, and vggish_input.py / vggish_params.py as vendored in
cxqj/33-tensorflow-audio-classification, commit 934162d497a66bc59c87f527448464e121a3a306):

- 16 kHz mono; 25 ms windows (400 samples) every 10 ms (160 samples), only whole windows (no padding);
- a periodic Hann window, |rfft| with the next power of two (512), 257 bins;
- 64 triangular mel bands on the HTK mel scale (1127 ln(1 + f/700)) between 125 and 7500 Hz, linear in mel,
  the DC bin given weight 0; magnitudes (not power) times the band matrix;
- ln(mel + 0.01);
- examples of 96 frames (0.96 s), hop 96 frames, only whole examples.

tests/test_extractors_fidelity.py pins values the reference computed on a fixed waveform.
"""
from __future__ import annotations

import numpy as np

SAMPLE_RATE = 16000
WINDOW_SECONDS = 0.025
HOP_SECONDS = 0.010
MEL_BANDS = 64
MEL_LOW_HZ = 125.0
MEL_HIGH_HZ = 7500.0
LOG_OFFSET = 0.01
EXAMPLE_FRAMES = 96
"""Frames of one example (0.96 s at a 10 ms hop)."""


def _mel(hz: np.ndarray | float) -> np.ndarray:
    return 1127.0 * np.log(1.0 + np.asarray(hz, dtype=np.float64) / 700.0)


def mel_matrix(bins: int, sample_rate: int = SAMPLE_RATE, bands: int = MEL_BANDS, low: float = MEL_LOW_HZ,
               high: float = MEL_HIGH_HZ) -> np.ndarray:
    """[bins, bands] weights: spectrogram rows times this matrix give mel bands."""
    bin_mel = _mel(np.linspace(0.0, sample_rate / 2.0, bins))
    edges = np.linspace(_mel(low), _mel(high), bands + 2)
    left, centre, right = edges[:-2], edges[1:-1], edges[2:]
    rising = (bin_mel[:, None] - left) / (centre - left)
    falling = (right - bin_mel[:, None]) / (right - centre)
    weights = np.clip(np.minimum(rising, falling), 0.0, None)
    weights[0, :] = 0.0
    return weights


def log_mel(wave: np.ndarray, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """[frames, 64] log-mel magnitudes of a mono wave (float64); frames = 1 + (S - 400) // 160."""
    wave = np.asarray(wave, dtype=np.float64).reshape(-1)
    window = int(round(sample_rate * WINDOW_SECONDS))
    hop = int(round(sample_rate * HOP_SECONDS))
    if len(wave) < window:
        return np.zeros((0, MEL_BANDS))
    fft = 1 << int(np.ceil(np.log2(window)))
    count = 1 + (len(wave) - window) // hop
    index = np.arange(window)[None, :] + hop * np.arange(count)[:, None]
    hann = 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(window) / window)
    magnitude = np.abs(np.fft.rfft(wave[index] * hann, fft))
    return np.log(magnitude @ mel_matrix(magnitude.shape[1], sample_rate) + LOG_OFFSET)


def examples(wave: np.ndarray, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """[N, 96, 64] examples of 0.96 s, back to back, as the reference's `waveform_to_examples` (16 kHz input)."""
    frames = log_mel(wave, sample_rate)
    count = len(frames) // EXAMPLE_FRAMES
    return frames[: count * EXAMPLE_FRAMES].reshape(count, EXAMPLE_FRAMES, MEL_BANDS)

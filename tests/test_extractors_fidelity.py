"""The VGGish front end against the AudioSet reference's log-mel computation, to 1e-5.

The pinned values below were computed by the reference itself, run outside this repository on the waveform
`_wave()` builds: `waveform_to_examples(wave, 16000)` of `vggish_input.py` (tensorflow/models
research/audioset/vggish, as vendored in cxqj/33-tensorflow-audio-classification at commit
934162d497a66bc59c87f527448464e121a3a306, with its `vggish_params.py`) on Google's `mel_features.py`
(google-coral/project-keyword-spotter at commit 43a5fd0578c75c9140b4f057de74f2dbac96ceff). Over all
2 x 96 x 64 values the reference and `logmel.examples` differed by at most 7.8e-13.
"""
from __future__ import annotations

import numpy as np
import pytest

from avtbench_plugins.extractors import logmel

# (example, frame, band) -> the reference's log-mel value
REFERENCE = [
    ((0, 0, 0), -3.727342979836957), ((0, 5, 10), 1.7923395943342972), ((0, 50, 30), -4.433060749873437),
    ((0, 95, 63), 0.827797993360692), ((1, 0, 1), -2.7780337691013988), ((1, 17, 20), -4.1624361827224075),
    ((1, 60, 45), -4.599209025936541), ((1, 95, 0), -3.7728581806148114), ((0, 33, 7), 3.1879712016421395),
    ((1, 80, 55), -4.4239909919675195),
]


def _wave() -> np.ndarray:
    """2.5 s at 16 kHz: a 440 Hz tone, a chirp from 1 kHz and a 7 kHz tone under a 3 Hz envelope (float32)."""
    t = np.arange(40000) / 16000.0
    return (0.5 * np.sin(2 * np.pi * 440.0 * t) + 0.25 * np.sin(2 * np.pi * (1000.0 + 1500.0 * t) * t)
            + 0.05 * np.sin(2 * np.pi * 7000.0 * t) * np.cos(2 * np.pi * 3.0 * t)).astype(np.float32)


def test_the_log_mel_examples_match_the_reference_to_1e_5() -> None:
    examples = logmel.examples(_wave())
    assert examples.shape == (2, 96, 64)  # 248 frames of 10 ms: two whole 0.96 s examples
    for index, value in REFERENCE:
        assert examples[index] == pytest.approx(value, abs=1e-5), index


def test_the_mel_matrix_is_htk_triangles_without_the_dc_bin() -> None:
    weights = logmel.mel_matrix(257)
    assert weights.shape == (257, 64)
    assert np.all(weights[0] == 0) and np.all(weights >= 0) and weights.max() <= 1.0
    hz = np.linspace(0, 8000, 257)
    assert np.all(weights[hz < 125.0] == 0) and np.all(weights[hz > 7500.0] == 0)


def test_frame_counts_follow_the_reference() -> None:
    assert logmel.log_mel(np.zeros(16000)).shape == (98, 64)  # 1 + (16000 - 400) // 160
    assert logmel.examples(np.zeros(160000)).shape == (10, 96, 64)  # a 10 s clip: ten 0.96 s examples
    assert logmel.log_mel(np.zeros(300)).shape == (0, 64)

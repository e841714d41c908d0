"""VIP-ANT's audio front end on the benchmark's clips: segment windows -> normalized FBANK images.

The recipe is VIP-ANT's (`configs/running/audio/default.yaml`, read by `cvap/data/audio/transform.py`),
computed by the core's generic `avtbench.audio.fbank`: the window's mean is removed (`zero_mean_wf:
True`, `:13`), Kaldi FBANK with a Hann window (`window_type: hanning`, `:11`), 128 mel bins (`:12`),
frames every 10 ms (`frame_shift: 10`, `:8`; 25 ms long, Kaldi's default), no dither (`dither: 0.0`,
`:6`); the log-mel is zero-padded (or cut) to the ViT's frame count (`cvap/data/image_audio.py:196-198`)
and then normalized with VIP-ANT's AudioSet statistics (`constants.py`, or `fbank_mean` / `fbank_std`
of the config). The "batched" backend computes all
windows at once (`fbank_batch`); the "reference" one calls `fbank` per window (slow), and the
tests check they agree.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from avtbench.api import UserError
from avtbench.audio import fbank as kaldi

from .config import SAMPLE_RATE, VipAntConfig
from .constants import FBANK_STD_SCALE


def segment_count(samples: int, config: VipAntConfig) -> int:
    """Number of one-second segments in a clip of `samples` samples (the benchmark's T)."""
    if samples % SAMPLE_RATE or samples == 0:
        raise UserError(f"vip_ant expects raw audio of whole seconds at {SAMPLE_RATE} Hz, got {samples} samples per clip")
    return samples // SAMPLE_RATE


def window_starts(segments: int, config: VipAntConfig) -> np.ndarray:
    """First sample of each segment's audio window: centred on the segment, kept inside the clip."""
    total, window = segments * SAMPLE_RATE, config.window_samples
    centres = (np.arange(segments) + 0.5) * SAMPLE_RATE
    starts = np.round(centres - window / 2).astype(np.int64)
    return np.clip(starts, 0, max(0, total - window))


def segment_windows(waveforms: Tensor, config: VipAntConfig, segments: np.ndarray | None = None) -> Tensor:
    """[B, T * 16000] -> [B * T, window] (or [len(segments)] windows for flat segment indices b * T + t).

    Windows reaching past the clip end (only when the window is longer than the clip) are zero-padded.
    """
    if waveforms.dim() != 2:
        raise UserError(f"vip_ant expects raw audio [B, T * {SAMPLE_RATE}], got shape {tuple(waveforms.shape)}")
    steps = segment_count(waveforms.shape[1], config)
    flat = np.arange(waveforms.shape[0] * steps) if segments is None else np.asarray(segments)
    clip, step = flat // steps, flat % steps
    starts = torch.from_numpy(window_starts(steps, config)[step])
    index = starts[:, None] + torch.arange(config.window_samples)[None, :]
    length = waveforms.shape[1]
    windows = waveforms[torch.from_numpy(clip)[:, None], index.clamp_max(length - 1)]
    return windows * (index < length) if config.window_samples > length else windows


def batched_fbank(windows: Tensor, num_mel_bins: int = 128) -> Tensor:
    """Kaldi FBANK of many waveforms [N, samples] -> [N, frames, num_mel_bins], mean removed first."""
    return kaldi.fbank_batch(windows, SAMPLE_RATE, num_mel_bins, subtract_waveform_mean=True)


def reference_fbank(windows: Tensor, num_mel_bins: int = 128) -> Tensor:
    """The same features through `avtbench.audio.fbank.fbank`, one window at a time."""
    rows = [kaldi.fbank(w, num_mel_bins=num_mel_bins, subtract_waveform_mean=True) for w in windows]
    return torch.stack(rows) if rows else torch.zeros(0, 0, num_mel_bins)


def fbank_images(windows: Tensor, config: VipAntConfig, chunk: int = 256) -> Tensor:
    """Waveform windows [N, samples] -> normalized FBANK [N, config.frames, num_mel_bins] for the audio ViT."""
    compute = batched_fbank if config.fbank_backend == "batched" else reference_fbank
    out = []
    for start in range(0, windows.shape[0], chunk):
        features = compute(windows[start:start + chunk].float(), config.num_mel_bins)
        features = kaldi.pad_or_crop(features, config.frames)
        out.append(kaldi.normalize(features, config.fbank_mean, config.fbank_std, FBANK_STD_SCALE))
    return torch.cat(out) if out else torch.zeros(0, config.frames, config.num_mel_bins)

"""VIP-ANT's audio front end on the benchmark's clips: segment windows -> normalized FBANK images.

The recipe is `avtbench.audio.fbank`'s (VIP-ANT's `cvap/data/audio/transform.py` and
`configs/running/audio/default.yaml`): the window's mean is removed, Kaldi FBANK with a Hann window,
128 mel bins, 25 ms frames every 10 ms, no dither; the log-mel is zero-padded (or cut) to the ViT's
frame count and then normalized with VIP-ANT's AudioSet statistics. `batched_fbank` computes the
same Kaldi features for many windows at once in torch (framing, DC removal, pre-emphasis, window,
power spectrum, mel bank, log), using `avtbench.audio.fbank`'s own window and mel bank; the
per-window `fbank` call is kept as the "reference" backend and the tests check they agree.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from avtbench.api import UserError
from avtbench.audio import fbank as kaldi

from .config import SAMPLE_RATE, VipAntConfig

FRAME_MS, SHIFT_MS, PREEMPHASIS, LOW_HZ = 25.0, 10.0, 0.97, 20.0
"""Kaldi's defaults as `avtbench.audio.fbank.fbank` uses them."""


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
    """Kaldi FBANK of many waveforms [N, samples] -> [N, frames, num_mel_bins], as `kaldi.fbank` with
    `subtract_waveform_mean=True`, a Hann window and no dither computes for each row."""
    frame_length, hop, fft_length = kaldi._frame_sizes(SAMPLE_RATE, FRAME_MS, SHIFT_MS)
    x = windows.to(torch.float32)
    x = x - x.mean(dim=1, keepdim=True)
    if x.shape[1] < frame_length:
        return torch.zeros(x.shape[0], 0, num_mel_bins)
    frames = x.unfold(1, frame_length, hop)
    frames = frames - frames.mean(dim=-1, keepdim=True)
    frames = torch.cat([frames[..., :1] * (1 - PREEMPHASIS), frames[..., 1:] - PREEMPHASIS * frames[..., :-1]], dim=-1)
    frames = frames * torch.from_numpy(kaldi._kaldi_window("hanning", frame_length)).float()
    spectrum = torch.fft.rfft(frames, n=fft_length, dim=-1)
    power = spectrum.real.square() + spectrum.imag.square()
    mel = torch.from_numpy(kaldi._kaldi_mel_filters(num_mel_bins, fft_length, SAMPLE_RATE, LOW_HZ, 0.0)).float()
    return (power @ mel).clamp_min(kaldi._FLOAT32_EPS).log()


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
        out.append(kaldi.normalize_as(features, config.normalization))
    return torch.cat(out) if out else torch.zeros(0, config.frames, config.num_mel_bins)

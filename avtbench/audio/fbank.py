"""Kaldi-compatible log-mel filterbanks (FBANK), the audio input of AST, CAV-MAE and VIP-ANT.

All three compute features with `torchaudio.compliance.kaldi.fbank` on a mean-removed waveform with
a Hann ("hanning") window, 128 mel bins, 25 ms frames every 10 ms and no dither (YuanGongND/ast
`src/dataloader.py`, YuanGongND/cav-mae `src/dataloader.py`, zhaoyanpeng/vipant
`configs/running/audio/default.yaml` and `cvap/data/audio/transform.py`). Kaldi frames with
`snip_edges`: only frames that fit entirely, so one second at 16 kHz gives 1 + (16000 - 400) // 160
= 98 frames, not 100.

torchaudio is optional and its import can fail (a CUDA build on a CPU machine raises OSError), so
the same recipe is also computed with transformers' numpy feature extraction, set up the way
`ASTFeatureExtractor` does when torchaudio is missing (transformers
`models/audio_spectrogram_transformer/feature_extraction_audio_spectrogram_transformer.py`).
`fbank_batch` computes the same recipe for a whole batch of equal-length windows in torch.

This module is the generic front end only; the dataset statistics a method normalizes with (and
its divisor) belong to the method's plugin and are passed to `normalize`.
"""
from __future__ import annotations

import functools
import math
import warnings
from typing import Any, Literal

import numpy as np
import torch

Backend = Literal["torchaudio", "transformers"]
BACKENDS: tuple[str, ...] = ("torchaudio", "transformers")

KALDI_WINDOWS: tuple[str, ...] = ("hanning", "hamming", "povey", "rectangular", "blackman")
LOG_FLOOR = float(np.finfo(np.float32).eps)
"""Kaldi's floor before the log (std::numeric_limits<float>::epsilon(), as in torchaudio's kaldi.py)."""


@functools.lru_cache(maxsize=1)
def _torchaudio_kaldi() -> Any | None:
    try:
        import torchaudio.compliance.kaldi as kaldi
    except Exception:
        return None
    return kaldi


def backend() -> Backend:
    """The backend `fbank` uses when none is forced: torchaudio if it imports, else transformers."""
    return "torchaudio" if _torchaudio_kaldi() is not None else "transformers"


def fbank(
    waveform: np.ndarray | torch.Tensor,
    sample_rate: int = 16000,
    num_mel_bins: int = 128,
    frame_shift_ms: float = 10.0,
    frame_length_ms: float = 25.0,
    window: str = "hanning",
    dither: float = 0.0,
    preemphasis: float = 0.97,
    low_freq: float = 20.0,
    high_freq: float = 0.0,
    remove_dc_offset: bool = True,
    subtract_waveform_mean: bool = False,
    backend: Backend | None = None,
) -> torch.Tensor:
    """Log-mel filterbank of a mono waveform as a float32 tensor [frames, num_mel_bins].

    Defaults are torchaudio's Kaldi defaults except `window` and `num_mel_bins`, which follow AST.
    `high_freq <= 0` counts down from Nyquist, as in Kaldi. `subtract_waveform_mean` removes the
    clip's mean first, as AST, CAV-MAE and VIP-ANT do before calling Kaldi. The waveform is used at
    the scale given (those methods pass floats in [-1, 1], not 16-bit integers). With `dither > 0`
    the torchaudio backend draws noise from torch's RNG and the transformers one from numpy's
    global RNG. A waveform shorter than one frame gives zero frames.
    """
    chosen = _resolve_backend(backend)
    if window not in KALDI_WINDOWS:
        raise ValueError(f"unknown window {window!r}; Kaldi windows are {', '.join(KALDI_WINDOWS)}")
    samples = _mono(waveform)
    if subtract_waveform_mean:
        samples = samples - samples.mean()
    frame_length, _, _ = frame_sizes(sample_rate, frame_length_ms, frame_shift_ms)
    if samples.numel() < frame_length:
        return torch.zeros(0, num_mel_bins)
    options = dict(sample_rate=sample_rate, num_mel_bins=num_mel_bins, frame_shift_ms=frame_shift_ms,
                   frame_length_ms=frame_length_ms, window=window, dither=dither, preemphasis=preemphasis,
                   low_freq=low_freq, high_freq=high_freq, remove_dc_offset=remove_dc_offset)
    compute = _fbank_torchaudio if chosen == "torchaudio" else _fbank_transformers
    return compute(samples, **options)


def _resolve_backend(requested: str | None) -> Backend:
    if requested is None:
        return backend()
    if requested not in BACKENDS:
        raise ValueError(f"unknown fbank backend {requested!r}; choose one of {', '.join(BACKENDS)}")
    if requested == "torchaudio" and _torchaudio_kaldi() is None:
        raise ImportError("the torchaudio fbank backend was requested but `import torchaudio` fails here")
    return requested  # type: ignore[return-value]


def _mono(waveform: np.ndarray | torch.Tensor) -> torch.Tensor:
    samples = torch.as_tensor(waveform).detach().cpu()
    if samples.dim() == 2 and samples.shape[0] == 1:
        samples = samples[0]
    if samples.dim() != 1:
        raise ValueError(f"expected a mono waveform [samples] or [1, samples], got shape {tuple(samples.shape)}")
    return samples.to(torch.float32)


def frame_sizes(sample_rate: int, frame_length_ms: float, frame_shift_ms: float) -> tuple[int, int, int]:
    """(frame length, hop, FFT size) in samples, truncated and rounded up to a power of two as Kaldi does."""
    frame_length = int(sample_rate * frame_length_ms * 0.001)
    hop = int(sample_rate * frame_shift_ms * 0.001)
    if frame_length < 2 or hop < 1:
        raise ValueError(f"frame of {frame_length} samples every {hop} is too small at {sample_rate} Hz")
    return frame_length, hop, 1 << (frame_length - 1).bit_length()


def _fbank_torchaudio(samples: torch.Tensor, *, sample_rate: int, num_mel_bins: int, frame_shift_ms: float,
                      frame_length_ms: float, window: str, dither: float, preemphasis: float, low_freq: float,
                      high_freq: float, remove_dc_offset: bool) -> torch.Tensor:
    kaldi = _torchaudio_kaldi()
    features = kaldi.fbank(
        samples.unsqueeze(0), sample_frequency=float(sample_rate), num_mel_bins=num_mel_bins,
        frame_shift=frame_shift_ms, frame_length=frame_length_ms, window_type=window, dither=dither,
        preemphasis_coefficient=preemphasis, low_freq=low_freq, high_freq=high_freq,
        remove_dc_offset=remove_dc_offset, use_energy=False,
    )
    return features.to(torch.float32)


def _fbank_transformers(samples: torch.Tensor, *, sample_rate: int, num_mel_bins: int, frame_shift_ms: float,
                        frame_length_ms: float, window: str, dither: float, preemphasis: float, low_freq: float,
                        high_freq: float, remove_dc_offset: bool) -> torch.Tensor:
    from transformers.audio_utils import spectrogram

    frame_length, hop, fft_length = frame_sizes(sample_rate, frame_length_ms, frame_shift_ms)
    filters = kaldi_mel_filters(num_mel_bins, fft_length, sample_rate, low_freq, high_freq)
    features = spectrogram(
        samples.numpy(), kaldi_window(window, frame_length), frame_length=frame_length, hop_length=hop,
        fft_length=fft_length, power=2.0, center=False, dither=dither, preemphasis=preemphasis or None,
        mel_filters=filters, mel_floor=LOG_FLOOR, log_mel="log", remove_dc_offset=remove_dc_offset,
    )
    return torch.from_numpy(np.ascontiguousarray(features.T, dtype=np.float32))


@functools.lru_cache(maxsize=16)
def kaldi_window(name: str, length: int) -> np.ndarray:
    """Kaldi's symmetric windows (torchaudio `_feature_window_function`); its Blackman with the
    default coefficient 0.42 is numpy's."""
    from transformers.audio_utils import window_function

    if name == "blackman":
        return np.blackman(length)
    named = {"hanning": "hann", "hamming": "hamming", "povey": "povey", "rectangular": "boxcar"}[name]
    return window_function(length, named, periodic=False)


@functools.lru_cache(maxsize=16)
def kaldi_mel_filters(num_mel_bins: int, fft_length: int, sample_rate: int, low_freq: float,
                       high_freq: float) -> np.ndarray:
    """Kaldi's mel bank [fft_length // 2 + 1, num_mel_bins]: triangles equally spaced on the
    1127 ln(1 + f / 700) scale between `low_freq` and `high_freq`, drawn in mel space.

    With AST's 128 bins over a 512-point FFT the lowest triangles fall between FFT bins and stay
    empty (those features sit at log(eps)); Kaldi and torchaudio accept that silently, so
    transformers' warning about it is muted here.
    """
    from transformers.audio_utils import mel_filter_bank

    nyquist = sample_rate / 2
    top = high_freq + nyquist if high_freq <= 0 else high_freq
    if not 0 <= low_freq < top <= nyquist:
        raise ValueError(f"need 0 <= low_freq < high_freq <= {nyquist:g} Hz, got {low_freq:g} and {top:g}")
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="At least one mel filter has all zero values")
        return mel_filter_bank(
            num_frequency_bins=fft_length // 2 + 1, num_mel_filters=num_mel_bins, min_frequency=low_freq,
            max_frequency=top, sampling_rate=sample_rate, norm=None, mel_scale="kaldi",
            triangularize_in_mel_space=True,
        )


def fbank_batch(
    waveforms: torch.Tensor,
    sample_rate: int = 16000,
    num_mel_bins: int = 128,
    frame_shift_ms: float = 10.0,
    frame_length_ms: float = 25.0,
    window: str = "hanning",
    preemphasis: float = 0.97,
    low_freq: float = 20.0,
    high_freq: float = 0.0,
    subtract_waveform_mean: bool = False,
) -> torch.Tensor:
    """`fbank` of many equal-length waveforms [N, samples] at once in torch -> [N, frames, num_mel_bins].

    The same Kaldi recipe without dither and with DC removal (framing with `snip_edges`, per-frame
    mean removal, pre-emphasis, window, power spectrum over the next power-of-two FFT, this
    module's mel bank, log floored at float32 eps), computed on the batch's device; it agrees with
    `fbank` to float32 rounding. Waveforms shorter than one frame give zero frames.
    """
    if waveforms.dim() != 2:
        raise ValueError(f"expected waveforms [N, samples], got shape {tuple(waveforms.shape)}")
    if window not in KALDI_WINDOWS:
        raise ValueError(f"unknown window {window!r}; Kaldi windows are {', '.join(KALDI_WINDOWS)}")
    frame_length, hop, fft_length = frame_sizes(sample_rate, frame_length_ms, frame_shift_ms)
    x = waveforms.to(torch.float32)
    if subtract_waveform_mean:
        x = x - x.mean(dim=1, keepdim=True)
    if x.shape[1] < frame_length:
        return torch.zeros(x.shape[0], 0, num_mel_bins, device=x.device)
    frames = x.unfold(1, frame_length, hop)
    frames = frames - frames.mean(dim=-1, keepdim=True)
    if preemphasis:
        frames = torch.cat([frames[..., :1] * (1 - preemphasis), frames[..., 1:] - preemphasis * frames[..., :-1]], dim=-1)
    frames = frames * torch.from_numpy(kaldi_window(window, frame_length)).to(x)
    spectrum = torch.fft.rfft(frames, n=fft_length, dim=-1)
    power = spectrum.real.square() + spectrum.imag.square()
    mel = torch.from_numpy(kaldi_mel_filters(num_mel_bins, fft_length, sample_rate, low_freq, high_freq)).to(x)
    return (power @ mel).clamp_min(LOG_FLOOR).log()


def normalize(fbank: torch.Tensor, mean: float, std: float, std_scale: float = 1.0) -> torch.Tensor:
    """(fbank - mean) / (std * std_scale). Each method brings its own dataset statistics (mean, std)
    and divisor: AST divides by 2 * std (`std_scale=2`), CAV-MAE and VIP-ANT by std alone."""
    return (fbank - mean) / (std * std_scale)


def pad_or_crop(fbank: torch.Tensor, target_frames: int, value: float = 0.0) -> torch.Tensor:
    """[..., frames, mel] -> [..., target_frames, mel]: pads with `value` at the end or keeps the
    first frames. AST, CAV-MAE and VIP-ANT pad the raw log-mel with zeros and normalize afterwards."""
    frames = fbank.shape[-2]
    if frames >= target_frames:
        return fbank[..., :target_frames, :]
    return torch.nn.functional.pad(fbank, (0, 0, 0, target_frames - frames), value=value)


def expected_frames(num_samples: int, sample_rate: int = 16000, frame_length_ms: float = 25.0,
                    frame_shift_ms: float = 10.0) -> int:
    """Frames Kaldi yields with `snip_edges=True`: only windows that lie wholly inside the signal."""
    frame_length, hop, _ = frame_sizes(sample_rate, frame_length_ms, frame_shift_ms)
    return 0 if num_samples < frame_length else 1 + (num_samples - frame_length) // hop


def kaldi_mel_centers(num_mel_bins: int = 128, sample_rate: int = 16000, low_freq: float = 20.0,
                      high_freq: float = 0.0) -> np.ndarray:
    """Centre frequency in Hz of each Kaldi mel filter."""
    top = high_freq + sample_rate / 2 if high_freq <= 0 else high_freq
    mels = np.linspace(_mel(low_freq), _mel(top), num_mel_bins + 2)[1:-1]
    return 700.0 * (np.exp(mels / 1127.0) - 1.0)


def _mel(hz: float) -> float:
    return 1127.0 * math.log(1.0 + hz / 700.0)

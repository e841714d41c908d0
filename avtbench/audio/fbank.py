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

NORMALIZATION: dict[str, tuple[float, float]] = {
    "ast": (-4.2677393, 4.5689974),
    "cav-mae": (-5.081, 4.4849),
    "vip-ant": (-4.93839311, 5.75751113),
}
"""AudioSet FBANK (mean, std) per method.

- ast: YuanGongND/ast `src/run.py` (`norm_stats['audioset']`), also transformers' ASTFeatureExtractor defaults.
- cav-mae: YuanGongND/cav-mae `egs/audioset/run_cavmae_pretrain_base.sh` (`dataset_mean`, `dataset_std`);
  the VGGSound recipes there use the same pair.
- vip-ant: zhaoyanpeng/vipant `bash/run_bimodal_va.sh` (`running.audio.norms`), hard-coded again in
  `cvap/data/audio/transform.py` (`FbankTransform`).
"""

STD_SCALE: dict[str, float] = {"ast": 2.0, "cav-mae": 1.0, "vip-ant": 1.0}
"""What each method multiplies the std by before dividing: AST divides by 2 * std
(YuanGongND/ast `src/dataloader.py`), CAV-MAE (`src/dataloader.py`) and VIP-ANT
(`cvap/data/image_audio.py`) by std alone."""

KALDI_WINDOWS: tuple[str, ...] = ("hanning", "hamming", "povey", "rectangular", "blackman")
_FLOAT32_EPS = float(np.finfo(np.float32).eps)
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
    frame_length, _, _ = _frame_sizes(sample_rate, frame_length_ms, frame_shift_ms)
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


def _frame_sizes(sample_rate: int, frame_length_ms: float, frame_shift_ms: float) -> tuple[int, int, int]:
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

    frame_length, hop, fft_length = _frame_sizes(sample_rate, frame_length_ms, frame_shift_ms)
    filters = _kaldi_mel_filters(num_mel_bins, fft_length, sample_rate, low_freq, high_freq)
    features = spectrogram(
        samples.numpy(), _kaldi_window(window, frame_length), frame_length=frame_length, hop_length=hop,
        fft_length=fft_length, power=2.0, center=False, dither=dither, preemphasis=preemphasis or None,
        mel_filters=filters, mel_floor=_FLOAT32_EPS, log_mel="log", remove_dc_offset=remove_dc_offset,
    )
    return torch.from_numpy(np.ascontiguousarray(features.T, dtype=np.float32))


@functools.lru_cache(maxsize=16)
def _kaldi_window(name: str, length: int) -> np.ndarray:
    """Kaldi's symmetric windows (torchaudio `_feature_window_function`); its Blackman with the
    default coefficient 0.42 is numpy's."""
    from transformers.audio_utils import window_function

    if name == "blackman":
        return np.blackman(length)
    named = {"hanning": "hann", "hamming": "hamming", "povey": "povey", "rectangular": "boxcar"}[name]
    return window_function(length, named, periodic=False)


@functools.lru_cache(maxsize=16)
def _kaldi_mel_filters(num_mel_bins: int, fft_length: int, sample_rate: int, low_freq: float,
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


def normalize(fbank: torch.Tensor, mean: float, std: float, std_scale: float = 1.0) -> torch.Tensor:
    """(fbank - mean) / (std * std_scale); pass `STD_SCALE[method]` to reproduce a method exactly."""
    return (fbank - mean) / (std * std_scale)


def normalize_as(fbank: torch.Tensor, method: str) -> torch.Tensor:
    """Normalize with `method`'s published AudioSet statistics and its own divisor (see `STD_SCALE`)."""
    if method not in NORMALIZATION:
        raise KeyError(f"no FBANK statistics for {method!r}; known: {', '.join(NORMALIZATION)}")
    mean, std = NORMALIZATION[method]
    return normalize(fbank, mean, std, STD_SCALE[method])


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
    frame_length, hop, _ = _frame_sizes(sample_rate, frame_length_ms, frame_shift_ms)
    return 0 if num_samples < frame_length else 1 + (num_samples - frame_length) // hop


def kaldi_mel_centers(num_mel_bins: int = 128, sample_rate: int = 16000, low_freq: float = 20.0,
                      high_freq: float = 0.0) -> np.ndarray:
    """Centre frequency in Hz of each Kaldi mel filter."""
    top = high_freq + sample_rate / 2 if high_freq <= 0 else high_freq
    mels = np.linspace(_mel(low_freq), _mel(top), num_mel_bins + 2)[1:-1]
    return 700.0 * (np.exp(mels / 1127.0) - 1.0)


def _mel(hz: float) -> float:
    return 1127.0 * math.log(1.0 + hz / 700.0)

"""CAV-MAE's inputs from the benchmark's raw clips, one pair per one-second segment.

Audio (`src/dataloader.py` `_wav2fbank`): the window's mean is removed, Kaldi FBANK (Hann window,
128 mel bins, 25 ms frames every 10 ms, no dither; `avtbench.audio.fbank`, torchaudio optional),
zero-padded or cut to `audio_frames`, then CAV-MAE's normalisation (x + 5.081) / 4.4849. Each
segment's window is `window_seconds` long, centred on the segment and kept inside the clip; a
window longer than the clip is the whole clip (the `paper` preset: 10 s of audio padded to 1024
frames, as CAV-MAE pads a 10 s clip), so then every segment of a clip sees the same audio.

Frames: uint8 [N, S, S, 3] -> [N, 3, image_size, image_size], resized, scaled to [0, 1] and
normalised with ImageNet statistics (CAV-MAE's `Resize(224, BICUBIC)`, `CenterCrop(224)`, `ToTensor`,
`Normalize` on a PIL image, `src/dataloader.py:124-128`). The resize is `frame_resize`: "torch" (ours:
torch's antialiased bicubic straight to the square, no rounding) or "pil" (CAV-MAE's: PIL's bicubic
filter on the 8-bit image, the shorter side to `image_size`, then the centre crop as torchvision's).
Not reproduced: the pretraining noise augmentation (random noise and time roll of the FBANK).
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from avtbench.api import UserError
from avtbench.audio import fbank as kaldi
from avtbench.backbones.preprocess import center_crop, pil_bicubic

from . import constants as C
from .config import SAMPLE_RATE, LGCavMaeConfig


def segment_count(samples: int) -> int:
    if samples <= 0 or samples % SAMPLE_RATE:
        raise UserError(f"lg_cav_mae expects raw audio of whole seconds at {SAMPLE_RATE} Hz, got {samples} samples per clip")
    return samples // SAMPLE_RATE


def window_starts(segments: int, window: int) -> np.ndarray:
    """First sample of each segment's window: centred on the segment, shifted to stay inside the clip."""
    total = segments * SAMPLE_RATE
    centres = (np.arange(segments) + 0.5) * SAMPLE_RATE
    return np.clip(np.round(centres - window / 2).astype(np.int64), 0, max(0, total - window))


def segment_windows(waveforms: Tensor, config: LGCavMaeConfig, flat: np.ndarray | None = None) -> Tensor:
    """[B, T * 16000] -> windows [B * T, W] (or [len(flat)] for flat indices b * T + t), W = min(window, clip)."""
    if waveforms.dim() != 2:
        raise UserError(f"lg_cav_mae expects raw audio [B, T * {SAMPLE_RATE}], got shape {tuple(waveforms.shape)}")
    steps = segment_count(waveforms.shape[1])
    window = min(config.window_samples, waveforms.shape[1])
    flat = np.arange(waveforms.shape[0] * steps) if flat is None else np.asarray(flat, dtype=np.int64)
    clip, step = flat // steps, flat % steps
    starts = torch.from_numpy(window_starts(steps, window)[step])
    index = starts[:, None] + torch.arange(window)[None, :]
    return waveforms[torch.from_numpy(clip)[:, None], index]


def fbank_inputs(windows: Tensor, config: LGCavMaeConfig, chunk: int = 256) -> Tensor:
    """Waveform windows [N, W] -> normalised FBANK [N, audio_frames, num_mel_bins]."""
    out = []
    for start in range(0, windows.shape[0], chunk):
        features = kaldi.fbank_batch(windows[start:start + chunk].float(), SAMPLE_RATE, config.num_mel_bins,
                                     subtract_waveform_mean=True)
        features = kaldi.pad_or_crop(features, config.audio_frames)
        out.append(kaldi.normalize(features, C.FBANK_MEAN, C.FBANK_STD))
    return torch.cat(out) if out else torch.zeros(0, config.audio_frames, config.num_mel_bins)


def frame_inputs(frames: Tensor | np.ndarray, size: int, resize: str = "torch") -> Tensor:
    """uint8 frames [N, H, W, 3] -> normalised pixels [N, 3, size, size], resized as `resize` says."""
    x = torch.as_tensor(np.asarray(frames) if not isinstance(frames, Tensor) else frames)
    if x.dim() != 4 or x.shape[-1] != 3:
        raise UserError(f"lg_cav_mae encodes RGB frames [N, S, S, 3], got shape {tuple(x.shape)}")
    if resize == "pil":
        height, width = x.shape[1:3]
        short, long = sorted((height, width))
        target = (size, int(size * long / short)) if height <= width else (int(size * long / short), size)
        x = center_crop(pil_bicubic(x, target), (size, size), rounded=True)
    else:
        x = x.permute(0, 3, 1, 2).float()
    if tuple(x.shape[-2:]) != (size, size):
        x = F.interpolate(x, size=(size, size), mode="bicubic", align_corners=False, antialias=True)
    x = (x / 255.0).clamp(0, 1)
    mean = torch.tensor(C.IMAGE_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(C.IMAGE_STD).view(1, 3, 1, 1)
    return (x - mean) / std

"""Batch preprocessing in torch that follows a loaded transformers processor: frames for CLIP-like
image towers, waveforms for CLAP-like audio towers.

Each object keeps the processor it was built from (`.processor`), so that it is saved with the
model by `save_pretrained` and rebuilt from it after `from_pretrained`.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor


def _size_value(size: Any, key: str) -> int | None:
    value = size.get(key) if isinstance(size, dict) else getattr(size, key, None)
    return int(value) if value is not None else None


RESIZES = ("torch", "pil")
"""How frames are resized: "torch" (torch's antialiased bicubic on the float frames, rounded to whole
values) or "pil" (PIL's bicubic filter on the 8-bit image, which is what torchvision's `Resize` does to a
PIL image: the pipelines of the original CLIP and of most reference code). PIL's cubic kernel has a = -0.5
and torch's a = -0.75, so the two differ by a few grey levels on smooth images."""


class ImagePreprocess:
    """uint8 frames [B, H, W, 3] -> pixel values [B, 3, h, w] as the loaded image processor specifies.

    Follows `CLIPImageProcessor`'s recipe (resize the shortest edge, centre crop, rescale by 1/255,
    normalize with the processor's mean and std) on the whole batch. `resize` (`RESIZES`): "torch"
    (default) resizes with torch's antialiased bicubic, rounded to integers as PIL's uint8 output is,
    and crops at (size - crop) // 2; "pil" resizes each frame with PIL's bicubic filter on the 8-bit
    image and crops where torchvision's `CenterCrop` does (rounding (size - crop) / 2).
    """

    def __init__(self, processor: Any, resize: str = "torch") -> None:
        if resize not in RESIZES:
            raise ValueError(f"resize must be one of {RESIZES}, got {resize!r}")
        self.resize = resize
        self.processor = processor
        size = getattr(processor, "size", None) or {}
        crop = getattr(processor, "crop_size", None) or {}
        self.shortest_edge = _size_value(size, "shortest_edge")
        self.size = (_size_value(size, "height"), _size_value(size, "width"))
        self.crop = (_size_value(crop, "height"), _size_value(crop, "width"))
        self.do_resize = bool(getattr(processor, "do_resize", True))
        self.do_crop = bool(getattr(processor, "do_center_crop", False)) and None not in self.crop
        self.scale = float(getattr(processor, "rescale_factor", 1 / 255)) if getattr(processor, "do_rescale", True) else 1.0
        normalize = getattr(processor, "do_normalize", True)
        self.mean = torch.tensor(processor.image_mean if normalize else (0.0, 0.0, 0.0)).view(1, 3, 1, 1)
        self.std = torch.tensor(processor.image_std if normalize else (1.0, 1.0, 1.0)).view(1, 3, 1, 1)

    def __call__(self, frames: np.ndarray | Tensor) -> Tensor:
        x = torch.as_tensor(np.asarray(frames) if not isinstance(frames, Tensor) else frames)
        if x.dim() != 4 or x.shape[-1] != 3:
            raise ValueError(f"expected frames [B, H, W, 3], got {tuple(x.shape)}")
        pil = self.resize == "pil"
        if pil and self.do_resize:
            x = pil_bicubic(x, self._target(x.shape[1], x.shape[2]))
        else:
            x = x.permute(0, 3, 1, 2).float()
            if self.do_resize:
                x = _resize(x, self._target(x.shape[-2], x.shape[-1]))
        if self.do_crop:
            x = center_crop(x, self.crop, rounded=pil)
        return ((x * self.scale) - self.mean) / self.std

    def _target(self, height: int, width: int) -> tuple[int, int]:
        if self.shortest_edge is None:
            return self.size[0] or height, self.size[1] or width
        short, long = sorted((height, width))
        new_long = int(self.shortest_edge * long / short)
        return (self.shortest_edge, new_long) if height <= width else (new_long, self.shortest_edge)


def _resize(x: Tensor, size: tuple[int, int]) -> Tensor:
    if tuple(x.shape[-2:]) == tuple(size):
        return x
    return F.interpolate(x, size=size, mode="bicubic", align_corners=False, antialias=True).round().clamp(0, 255)


def pil_bicubic(frames: np.ndarray | Tensor, size: tuple[int, int]) -> Tensor:
    """Frames [B, H, W, 3] of whole values 0..255 resized to `size` (height, width) by PIL's bicubic
    filter on the 8-bit image, as torchvision's `Resize(..., BICUBIC)` resizes a PIL image -> float
    [B, 3, height, width] of whole values."""
    from PIL import Image

    x = torch.as_tensor(np.asarray(frames) if not isinstance(frames, Tensor) else frames)
    pixels = (x if x.dtype == torch.uint8 else x.float().round().clamp(0, 255).to(torch.uint8)).cpu().numpy()
    height, width = int(size[0]), int(size[1])
    out = np.stack([np.asarray(Image.fromarray(frame, "RGB").resize((width, height), Image.Resampling.BICUBIC))
                    for frame in pixels]) if len(pixels) else np.zeros((0, height, width, 3), np.uint8)
    return torch.from_numpy(out).permute(0, 3, 1, 2).float()


def center_crop(x: Tensor, crop: tuple[int, int], rounded: bool = False) -> Tensor:
    """The centre `crop` (height, width) of [B, C, H, W], zero-padded first where smaller. The corner is
    at (size - crop) // 2, or with `rounded` at round((size - crop) / 2) as torchvision's `CenterCrop`."""
    height, width = x.shape[-2:]
    ch, cw = crop
    if (height, width) == (ch, cw):
        return x
    if height < ch or width < cw:
        x = F.pad(x, (max(0, (cw - width) // 2), max(0, cw - width - (cw - width) // 2),
                      max(0, (ch - height) // 2), max(0, ch - height - (ch - height) // 2)))
        height, width = x.shape[-2:]
    offset = (lambda extra: int(round(extra / 2.0))) if rounded else (lambda extra: extra // 2)
    top, left = offset(height - ch), offset(width - cw)
    return x[..., top:top + ch, left:left + cw]


class AudioPreprocess:
    """Waveforms [B, samples] at `input_rate` -> the model inputs of the loaded feature extractor.

    Resamples (FFT method) when the extractor expects another rate, centre-crops anything longer
    than the extractor's maximum length (the extractor itself would crop at random), then calls the
    extractor and returns its tensors (`input_features`, `is_longer`).
    """

    def __init__(self, processor: Any, input_rate: int = 16000) -> None:
        self.processor = processor
        self.input_rate = int(input_rate)
        self.rate = int(getattr(processor, "sampling_rate", input_rate))
        self.max_samples = int(getattr(processor, "nb_max_samples", 0) or 0)

    def __call__(self, waveforms: np.ndarray | Tensor) -> dict[str, Tensor]:
        x = torch.as_tensor(np.asarray(waveforms) if not isinstance(waveforms, Tensor) else waveforms).double()
        if x.dim() != 2:
            raise ValueError(f"expected waveforms [B, samples], got {tuple(x.shape)}")
        x = resample(x, self.input_rate, self.rate)
        if self.max_samples and x.shape[1] > self.max_samples:
            start = (x.shape[1] - self.max_samples) // 2
            x = x[:, start:start + self.max_samples]
        out = self.processor(list(x.numpy()), sampling_rate=self.rate, return_tensors="pt")
        return {k: v for k, v in out.items() if isinstance(v, Tensor)}


def resample(waveforms: Tensor, source_rate: int, target_rate: int) -> Tensor:
    """[B, n] -> [B, round(n * target / source)] by truncating or zero-padding the spectrum."""
    if source_rate == target_rate:
        return waveforms
    n = waveforms.shape[-1]
    m = max(1, round(n * target_rate / source_rate))
    spectrum = torch.fft.rfft(waveforms, dim=-1)
    bins = m // 2 + 1
    spectrum = spectrum[..., :bins] if spectrum.shape[-1] >= bins else F.pad(spectrum, (0, bins - spectrum.shape[-1]))
    return torch.fft.irfft(spectrum, n=m, dim=-1) * (m / n)

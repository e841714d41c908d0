"""The segmentation model of `avs_s4`: a small CNN over the frames, conditioned by the frozen embeddings.

Shape of AVSBench's model (OpenNLPLab/AVSBench `avs_scripts/avs_s4/model/ResNet_AVSModel.py`), scaled
down to train on CPU in minutes:
- visual encoder: four stages (3x3 conv stride 2, 3x3 conv, GroupNorm, ReLU) of `width`, 2, 4 and 8
  times `width` channels at 1/2 .. 1/16 of the frame size; trainable, from scratch (AVSBench:
  ImageNet ResNet-50 or PVT-v2, fine-tuned);
- fusion of the conditioning [T, D] (one vector per frame, LayerNorm'd first) into every stage:
  - `film` (default): FiLM, x * (1 + gamma) + beta with (gamma, beta) = Linear(D -> 2C), per frame
    and channel, initialised to the identity. Frames are then independent of each other;
  - `tpavi`: AVSBench's TPAVI (dot-product mode): a non-local block whose keys are the conditioning
    of every frame, attending over all T x H x W positions, with a zero-initialised output
    projection, residual and LayerNorm over channels. Because the key map is the conditioning
    broadcast over H x W, f / N . g is computed as theta . (sum_t phi_t g_t^T) / N, in linear time;
- decoder: top-down (FPN-like) 3x3 convs from 1/16 to 1/2, a head to one logit, bilinear
  upsampling to the full frame size.
"""
from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

FUSIONS = ("film", "tpavi")
MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)
"""ImageNet normalisation, as the reference's image transform."""


def _groups(channels: int) -> int:
    return next(g for g in (8, 4, 2, 1) if channels % g == 0)


class Stage(nn.Module):
    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(c_in, c_out, 3, stride=2, padding=1), nn.GroupNorm(_groups(c_out), c_out), nn.ReLU(inplace=True),
            nn.Conv2d(c_out, c_out, 3, padding=1), nn.GroupNorm(_groups(c_out), c_out), nn.ReLU(inplace=True))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


class FiLM(nn.Module):
    """x [B*T, C, H, W] * (1 + gamma) + beta, (gamma, beta) from the frame's conditioning [B*T, D]."""

    def __init__(self, cond_dim: int, channels: int) -> None:
        super().__init__()
        self.affine = nn.Linear(cond_dim, 2 * channels)
        nn.init.zeros_(self.affine.weight)
        nn.init.zeros_(self.affine.bias)

    def forward(self, x: torch.Tensor, cond: torch.Tensor, frames: int) -> torch.Tensor:
        gamma, beta = self.affine(cond).chunk(2, dim=-1)
        return x * (1 + gamma[:, :, None, None]) + beta[:, :, None, None]


class TPAVI(nn.Module):
    """AVSBench's TPAVI block (dot mode) with the conditioning as keys, over the T frames of each clip."""

    def __init__(self, cond_dim: int, channels: int) -> None:
        super().__init__()
        inner = max(channels // 2, 1)
        self.align = nn.Linear(cond_dim, channels)
        self.theta = nn.Conv2d(channels, inner, 1)
        self.phi = nn.Linear(channels, inner)
        self.g = nn.Conv2d(channels, inner, 1)
        self.out = nn.Conv2d(inner, channels, 1)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)
        self.norm = nn.LayerNorm(channels)

    def forward(self, x: torch.Tensor, cond: torch.Tensor, frames: int) -> torch.Tensor:
        bt, _, h, w = x.shape
        b = bt // frames
        phi = self.phi(self.align(cond)).reshape(b, frames, -1)  # the key of every position of a frame
        theta = self.theta(x).reshape(b, frames, -1, h * w).permute(0, 1, 3, 2).reshape(b, frames * h * w, -1)
        g_sum = self.g(x).sum(dim=(2, 3)).reshape(b, frames, -1)
        memory = torch.einsum("btc,btd->bcd", phi, g_sum) / (frames * h * w)
        y = torch.einsum("bnc,bcd->bnd", theta, memory)
        y = y.reshape(b, frames, h * w, -1).permute(0, 1, 3, 2).reshape(bt, -1, h, w)
        z = self.out(y) + x
        return self.norm(z.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)


class Segmenter(nn.Module):
    """frames float [B, T, 3, H, W] in [0, 1], conditioning [B, T, D] -> mask logits [B, T, H, W]."""

    def __init__(self, cond_dim: int, width: int = 16, fusion: str = "film") -> None:
        super().__init__()
        if fusion not in FUSIONS:
            raise ValueError(f"fusion must be one of {FUSIONS}, got {fusion!r}")
        self.fusion = fusion
        channels = [width, 2 * width, 4 * width, 8 * width]
        self.cond_norm = nn.LayerNorm(cond_dim)
        self.stages = nn.ModuleList(Stage(c_in, c_out) for c_in, c_out in zip([3, *channels[:-1]], channels))
        block = FiLM if fusion == "film" else TPAVI
        self.fuse = nn.ModuleList(block(cond_dim, c) for c in channels)
        dec = 2 * width
        self.lateral = nn.ModuleList(nn.Conv2d(c, dec, 1) for c in channels)
        self.smooth = nn.ModuleList(nn.Sequential(nn.Conv2d(dec, dec, 3, padding=1), nn.GroupNorm(_groups(dec), dec),
                                                  nn.ReLU(inplace=True)) for _ in channels[:-1])
        self.head = nn.Sequential(nn.Conv2d(dec, dec, 3, padding=1), nn.ReLU(inplace=True), nn.Conv2d(dec, 1, 1))
        self.register_buffer("mean", torch.tensor(MEAN).reshape(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(STD).reshape(1, 3, 1, 1))

    @property
    def temporal(self) -> bool:
        """Whether a frame's output depends on the other frames of its clip (then all T must be fed)."""
        return self.fusion == "tpavi"

    def forward(self, frames: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        b, t, _, h, w = frames.shape
        x = (frames.reshape(b * t, 3, h, w) - self.mean) / self.std
        c = self.cond_norm(cond.reshape(b * t, -1))
        features = []
        for stage, fuse in zip(self.stages, self.fuse):
            x = fuse(stage(x), c, t)
            features.append(x)
        y = self.lateral[-1](features[-1])
        for level in range(len(features) - 2, -1, -1):
            lateral = self.lateral[level](features[level])
            y = self.smooth[level](lateral + F.interpolate(y, size=lateral.shape[-2:], mode="bilinear", align_corners=False))
        logits = F.interpolate(self.head(y), size=(h, w), mode="bilinear", align_corners=False)
        return logits.reshape(b, t, h, w)

"""CAV-MAE's building blocks (YuanGongND/cav-mae `src/models/cav_mae.py`, `src/models/pos_embed.py`):
patch embedding, fixed 2-D sin-cos positions, and the pre-norm transformer block whose LayerNorms
can be the audio's, the visual's or the joint stream's."""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

MODALITY_NORMS = (None, "a", "v")
"""Which LayerNorms a block applies: None (joint stream), "a" (audio alone), "v" (visual alone)."""


def sincos_2d(dim: int, rows: int, cols: int) -> Tensor:
    """Fixed positions [rows * cols, dim] in row-major patch order, as `get_2d_sincos_pos_embed`:
    the first half of the channels encodes the column, the second half the row."""
    if dim % 4:
        raise ValueError(f"sin-cos positions need a width divisible by 4, got {dim}")
    col, row = np.meshgrid(np.arange(cols, dtype=np.float64), np.arange(rows, dtype=np.float64))
    embedded = np.concatenate([_sincos_1d(dim // 2, col), _sincos_1d(dim // 2, row)], axis=1)
    return torch.from_numpy(embedded).float()


def _sincos_1d(dim: int, positions: np.ndarray) -> np.ndarray:
    omega = 1.0 / 10000 ** (np.arange(dim // 2, dtype=np.float64) / (dim / 2.0))
    angles = np.outer(positions.reshape(-1), omega)
    return np.concatenate([np.sin(angles), np.cos(angles)], axis=1)


class PatchEmbed(nn.Module):
    """Non-overlapping 16 x 16 patches -> tokens [B, rows * cols, dim] (a strided convolution)."""

    def __init__(self, channels: int, dim: int, patch: int) -> None:
        super().__init__()
        self.patch = patch
        self.proj = nn.Conv2d(channels, dim, kernel_size=patch, stride=patch)

    def forward(self, x: Tensor) -> Tensor:
        return self.proj(x).flatten(2).transpose(1, 2)


class Attention(nn.Module):
    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        if dim % heads:
            raise ValueError(f"width {dim} is not divisible by {heads} heads")
        self.heads = heads
        self.qkv = nn.Linear(dim, dim * 3, bias=True)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: Tensor) -> Tensor:
        b, n, d = x.shape
        q, k, v = self.qkv(x).reshape(b, n, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        out = F.scaled_dot_product_attention(q, k, v)
        return self.proj(out.transpose(1, 2).reshape(b, n, d))


class Block(nn.Module):
    """Pre-norm transformer block with three pairs of LayerNorms (`norm1`/`norm2` for the joint stream,
    `norm1_a`/`norm2_a` and `norm1_v`/`norm2_v` for one modality alone) around shared weights."""

    def __init__(self, dim: int, heads: int, mlp_ratio: float) -> None:
        super().__init__()
        self.norm1, self.norm1_a, self.norm1_v = nn.LayerNorm(dim), nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.attn = Attention(dim, heads)
        self.norm2, self.norm2_a, self.norm2_v = nn.LayerNorm(dim), nn.LayerNorm(dim), nn.LayerNorm(dim)
        hidden = int(dim * mlp_ratio)
        self.mlp = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, dim))

    def norms(self, modality: str | None) -> tuple[nn.LayerNorm, nn.LayerNorm]:
        if modality not in MODALITY_NORMS:
            raise ValueError(f"unknown modality {modality!r}; blocks know {MODALITY_NORMS}")
        suffix = "" if modality is None else f"_{modality}"
        return getattr(self, f"norm1{suffix}"), getattr(self, f"norm2{suffix}")

    def forward(self, x: Tensor, modality: str | None = None) -> Tensor:
        first, second = self.norms(modality)
        x = x + self.attn(first(x))
        return x + self.mlp(second(x))


def init_weights(module: nn.Module) -> None:
    """CAV-MAE's `_init_weights`: xavier-uniform linear layers with zero bias, unit LayerNorms."""
    if isinstance(module, nn.Linear):
        nn.init.xavier_uniform_(module.weight)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.LayerNorm):
        nn.init.ones_(module.weight)
        nn.init.zeros_(module.bias)

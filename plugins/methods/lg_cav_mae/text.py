"""The language side: a frozen CLAP (text tower for the guidance, both towers for the triplet filter)
and the two-layer MLP that maps audio and visual embeddings to the text embedding's width.

The paper's text encoder is Microsoft's CLAP 2023 (`msclap`), which has no transformers class; a
transformers `ClapModel` stands in (`synth://clap`, or any CLAP id or folder through
`from_pretrained`). Towers are called as transformers lays them out (tower, then its projection).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from avtbench.backbones import frozen

from .config import SAMPLE_RATE


class FrozenClap(frozen.FrozenClap):
    """A frozen `ClapModel` (`avtbench.backbones.frozen`) whose `audio` embeds whole clips."""

    @torch.no_grad()
    def audio(self, waveforms: Tensor, chunk: int = 256) -> Tensor:
        """Clips [N, samples] at 16 kHz -> [N, D]: the mean of the normalised embeddings of consecutive
        windows as long as the feature extractor takes (1 s for `synth://clap`, 10 s for LAION's CLAP),
        renormalised; a clip no longer than one window is embedded whole."""
        length = waveforms.shape[1]
        span = self._window_samples() or length
        pieces = max(1, length // span) if length >= span else 1
        span = length if pieces == 1 else span
        windows = waveforms[:, :pieces * span].reshape(waveforms.shape[0] * pieces, span)
        embedded = super().audio(windows, chunk=chunk).reshape(waveforms.shape[0], pieces, -1).mean(dim=1)
        return F.normalize(embedded, dim=-1)

    def _window_samples(self) -> int:
        """The extractor's longest input, in samples at the benchmark's 16 kHz (0: no limit)."""
        limit = self.preprocess.max_samples
        return round(limit * SAMPLE_RATE / self.preprocess.rate) if limit else 0


class TextHead(nn.Module):
    """Two-layer MLP (Linear, GELU, Linear) from the encoder width to the text embedding's width;
    one for both modalities ("shared") or one each ("per_modality")."""

    def __init__(self, width: int, text_dim: int, hidden: int, shared: bool) -> None:
        super().__init__()
        def make() -> nn.Module:
            return nn.Sequential(nn.Linear(width, hidden), nn.GELU(), nn.Linear(hidden, text_dim))

        self.shared = shared
        self.audio = make()
        if not shared:
            self.visual = make()

    def forward(self, x: Tensor, modality: str) -> Tensor:
        return (self.audio if modality == "audio" or self.shared else self.visual)(x)

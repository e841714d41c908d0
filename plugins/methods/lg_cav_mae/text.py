"""The language side: a frozen CLAP (text tower for the guidance, both towers for the triplet filter)
and the two-layer MLP that maps audio and visual embeddings to the text embedding's width.

The paper's text encoder is Microsoft's CLAP 2023 (`msclap`), which has no transformers class; a
transformers `ClapModel` stands in (`synth://clap`, or any CLAP id or folder through
`from_pretrained`). Towers are called as transformers lays them out (tower, then its projection).
"""
from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from avtbench.backbones.preprocess import AudioPreprocess

from .config import SAMPLE_RATE


class FrozenClap:
    """A `ClapModel` in eval mode without gradients; every embedding it returns is L2-normalised."""

    def __init__(self, model: Any, tokenizer: Any, preprocess: AudioPreprocess, device: str = "cpu") -> None:
        self.model = model.to(device).eval()
        for p in self.model.parameters():
            p.requires_grad_(False)
        self.tokenizer = tokenizer
        self.preprocess = preprocess
        self.device = device

    @property
    def dim(self) -> int:
        return int(self.model.config.projection_dim)

    def _text_limit(self) -> int:
        text = self.model.config.text_config
        positions = int(text.max_position_embeddings) - int(getattr(text, "pad_token_id", 0) or 0) - 1
        return max(2, min(int(getattr(self.tokenizer, "model_max_length", positions) or positions), positions))

    @torch.no_grad()
    def texts(self, captions: list[str], chunk: int = 512) -> Tensor:
        """Captions -> [len(captions), D]."""
        out, limit = [], self._text_limit()
        for start in range(0, len(captions), chunk):
            tokens = self.tokenizer([str(c) for c in captions[start:start + chunk]], padding=True, truncation=True,
                                    max_length=limit, return_tensors="pt")
            pooled = self.model.text_model(input_ids=tokens["input_ids"].to(self.device),
                                           attention_mask=tokens["attention_mask"].to(self.device)).pooler_output
            out.append(F.normalize(self.model.text_projection(pooled), dim=-1).float())
        return torch.cat(out) if out else torch.zeros(0, self.dim, device=self.device)

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
        out = []
        for start in range(0, windows.shape[0], chunk):
            inputs = self.preprocess(windows[start:start + chunk].cpu())
            kwargs = {"input_features": inputs["input_features"].to(self.device, self.model.dtype)}
            if "is_longer" in inputs:
                kwargs["is_longer"] = inputs["is_longer"].to(self.device)
            pooled = self.model.audio_model(**kwargs).pooler_output
            out.append(F.normalize(self.model.audio_projection(pooled), dim=-1).float())
        embedded = torch.cat(out).reshape(waveforms.shape[0], pieces, -1).mean(dim=1)
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

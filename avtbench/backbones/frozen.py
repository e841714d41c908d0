"""Frozen contrastive backbones as encoders: CLIP (image, text) and CLAP (audio, text), in eval
mode without gradients, every embedding L2-normalised (`F.normalize(..., dim=-1)` after each
tower's projection, which is what transformers' `get_*_features` compute).

The towers are called as the transformers models lay them out (tower, then its projection), which
stays the same across transformers versions. Methods built on frozen CLIP / CLAP share these.
"""
from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from avtbench.backbones.preprocess import AudioPreprocess, ImagePreprocess


def _frozen(model: Any, device: str) -> Any:
    model = model.to(device).eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model


def _text_limit(tokenizer: Any, config: Any, offset: int = 0) -> int:
    """Longest token sequence the tokenizer may emit and the text tower can place."""
    positions = int(config.max_position_embeddings) - offset
    return max(2, min(int(getattr(tokenizer, "model_max_length", positions) or positions), positions))


class _Trunk:
    kind: str = ""

    def __init__(self, model: Any, tokenizer: Any, preprocess: Any, device: str = "cpu") -> None:
        self.model = _frozen(model, device)
        self.tokenizer = tokenizer
        self.preprocess = preprocess
        self.device = device

    @property
    def dim(self) -> int:
        return int(self.model.config.projection_dim)

    def _text_limit(self) -> int:
        return _text_limit(self.tokenizer, self.model.config.text_config)

    @torch.no_grad()
    def texts(self, captions: list[str], chunk: int = 512) -> Tensor:
        """Captions -> [len(captions), D], L2-normalised."""
        out, limit = [], self._text_limit()
        for start in range(0, len(captions), chunk):
            tokens = self.tokenizer([str(c) for c in captions[start:start + chunk]], padding=True, truncation=True,
                                    max_length=limit, return_tensors="pt")
            pooled = self.model.text_model(input_ids=tokens["input_ids"].to(self.device),
                                           attention_mask=tokens["attention_mask"].to(self.device)).pooler_output
            out.append(F.normalize(self.model.text_projection(pooled), dim=-1).float())
        return torch.cat(out) if out else torch.zeros(0, self.dim, device=self.device)


class FrozenClip(_Trunk):
    """CLIP's image and text towers with their projections (a transformers `CLIPModel`)."""

    kind = "clip"

    def __init__(self, model: Any, tokenizer: Any, preprocess: ImagePreprocess, device: str = "cpu") -> None:
        super().__init__(model, tokenizer, preprocess, device)

    @property
    def dim(self) -> int:
        return int(self.model.visual_projection.out_features)

    @torch.no_grad()
    def images(self, frames: Tensor, chunk: int = 512) -> Tensor:
        """uint8 frames [N, S, S, 3] -> [N, D], L2-normalised."""
        out = []
        for start in range(0, frames.shape[0], chunk):
            pixels = self.preprocess(frames[start:start + chunk]).to(self.device)
            pooled = self.model.vision_model(pixel_values=pixels).pooler_output
            out.append(F.normalize(self.model.visual_projection(pooled), dim=-1).float())
        return torch.cat(out) if out else torch.zeros(0, self.dim, device=self.device)


class FrozenClap(_Trunk):
    """CLAP's audio and text towers with their projections (a transformers `ClapModel`)."""

    kind = "clap"

    def __init__(self, model: Any, tokenizer: Any, preprocess: AudioPreprocess, device: str = "cpu") -> None:
        super().__init__(model, tokenizer, preprocess, device)

    def _text_limit(self) -> int:
        # RoBERTa-style positions start after the padding id
        text = self.model.config.text_config
        return _text_limit(self.tokenizer, text, offset=int(getattr(text, "pad_token_id", 0) or 0) + 1)

    @torch.no_grad()
    def audio(self, windows: Tensor, chunk: int = 512) -> Tensor:
        """Waveforms [N, samples] at 16 kHz (one-second segments) -> [N, D], L2-normalised."""
        out = []
        for start in range(0, windows.shape[0], chunk):
            inputs = self.preprocess(windows[start:start + chunk].cpu())
            kwargs = {"input_features": inputs["input_features"].to(self.device, self.model.dtype)}
            if "is_longer" in inputs:
                kwargs["is_longer"] = inputs["is_longer"].to(self.device)
            pooled = self.model.audio_model(**kwargs).pooler_output
            out.append(F.normalize(self.model.audio_projection(pooled), dim=-1).float())
        return torch.cat(out) if out else torch.zeros(0, self.dim, device=self.device)

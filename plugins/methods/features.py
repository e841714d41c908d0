"""Input shaping shared by the built-in baseline methods (unaligned, cca)."""
from __future__ import annotations

import re

import numpy as np
import torch


def segment_vectors(modality: str, batch: torch.Tensor) -> torch.Tensor:
    """[B, T, D] for audio, [B, T, H, W, C] -> [B, T, C] (spatial mean) for visual."""
    if modality == "visual" and batch.dim() == 5:
        return batch.float().mean(dim=(2, 3))
    if batch.dim() != 3:
        raise ValueError(f"{modality} batch must be [B, T, D] (visual may be [B, T, H, W, C]), got {tuple(batch.shape)}")
    return batch.float()


def words(caption: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", caption.lower())


def vocabulary_of(captions: list[str]) -> dict[str, int]:
    return {w: i for i, w in enumerate(sorted({w for c in captions for w in words(c)}))}


def bag_of_words(captions: list[str], vocabulary: dict[str, int]) -> torch.Tensor:
    """[B, V] word counts of each caption over `vocabulary` (unknown words ignored)."""
    counts = np.zeros((len(captions), len(vocabulary)), dtype=np.float32)
    for row, caption in enumerate(captions):
        for word in words(caption):
            if word in vocabulary:
                counts[row, vocabulary[word]] += 1
    return torch.from_numpy(counts)

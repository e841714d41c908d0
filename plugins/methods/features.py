"""Input shaping shared by the built-in baseline methods."""
from __future__ import annotations

import torch


def segment_vectors(modality: str, batch: torch.Tensor) -> torch.Tensor:
    """[B, T, D] for audio, [B, T, H, W, C] -> [B, T, C] (spatial mean) for visual."""
    if modality == "visual" and batch.dim() == 5:
        return batch.float().mean(dim=(2, 3))
    if batch.dim() != 3:
        raise ValueError(f"{modality} batch must be [B, T, D] (visual may be [B, T, H, W, C]), got {tuple(batch.shape)}")
    return batch.float()

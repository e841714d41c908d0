"""The frozen trunks of C-MCR: CLIP (image, text) and CLAP (audio, text), each returning L2-normalised
embeddings as the official `cmcr/trunks.py` does (`avtbench.backbones.frozen`), and the one-second
audio windows C-MCR's CLAP embeds here.
"""
from __future__ import annotations

from torch import Tensor

from avtbench.api import UserError
from avtbench.backbones.frozen import FrozenClap, FrozenClip

from .config import SAMPLE_RATE

__all__ = ["FrozenClap", "FrozenClip", "segments"]


def segments(waveforms: Tensor) -> Tensor:
    """Raw audio [B, T * 16000] -> one-second windows [B * T, 16000], segment-major within each clip."""
    if waveforms.dim() != 2:
        raise UserError(f"cmcr encodes raw audio [B, T * {SAMPLE_RATE}], got shape {tuple(waveforms.shape)}")
    samples = waveforms.shape[1]
    if samples == 0 or samples % SAMPLE_RATE:
        raise UserError(f"cmcr expects raw audio of whole seconds at {SAMPLE_RATE} Hz, got {samples} samples per clip")
    return waveforms.reshape(waveforms.shape[0] * (samples // SAMPLE_RATE), SAMPLE_RATE)

"""A trainable copy of one modality's semantic encoder, for a downstream task to fine-tune (`UnifiedVQ.trainable_encoder`).

What `encode` computes, with gradients: the semantic encoder (for text, the BiLSTM over the frozen token
features first) and the nearest code of the shared codebook, passed straight through to the encoder as
the reference's downstream encoders do (`Audio_vq_embedding` in haihuangcode/CMG
`code/src/model/main_model_2.py:586-598`: `z + (q - z).detach()`). Written `q + (z - sg(z))` here, so
that the value is the code itself, exactly what `encode` returns, and the gradient the same identity.
The codebook is copied and never updated (no EMA, no reset: only the encoder fine-tunes); the token
encoder of text (BERT or `synth://text`) stays frozen, as it is in pretraining.
"""
from __future__ import annotations

import copy
from typing import Callable

from torch import Tensor, nn

from avtbench.api import Batch

from .model import UnifiedVQModel


class TrainableSemanticEncoder(nn.Module):
    """batch as `UnifiedVQ.encode` takes it -> code vectors [B, T, D] with straight-through gradients.

    `read` turns the batch into the encoder's input on the device (`UnifiedVQ._input` for this
    modality: a float tensor, or the token features of captions)."""

    def __init__(self, model: UnifiedVQModel, modality: str, read: Callable[[Batch], Tensor]) -> None:
        super().__init__()
        self.modality = modality
        self.text_lstm = copy.deepcopy(model.text_lstm) if modality == "text" else None
        self.semantic = copy.deepcopy(model.semantic[modality])
        self.codebook = copy.deepcopy(model.codebook)
        self.read = read

    def forward(self, batch: Batch) -> Tensor:
        x = self.read(batch)
        if self.text_lstm is not None:
            x = self.text_lstm(x)
        z = self.semantic(x)
        codes = self.codebook.lookup(self.codebook.nearest(z)).to(z.dtype)
        return codes + (z - z.detach())

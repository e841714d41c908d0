"""Fine-tuning a method's encoder in a downstream task: the clips of a split seen through a trainable encoder.

The contract (`avtbench.api`): a method that can hand over a trainable copy of an encoder says for which
modalities (`Method.trainable_modalities(config)`, read at plan time) and makes it on demand
(`Method.trainable_encoder(modality)`: a fresh `torch.nn.Module` whose `forward(batch)` takes a batch as
`encode` takes it and returns what `encode` returns, until trained). A task that fine-tunes says which
modalities' encoders it trains under its config (`Task.finetuned_modalities(config, direction)`); the
runner then hands it those copies as `evaluate(..., encoders={modality: module})` and encodes nothing
into the cache for them. `EncodedRows` is how a task reads its clips through such an encoder: by rows,
a batch at a time (the inputs are never read whole), with gradients when the encoder is training.

`encoder_batch` is the one place that turns rows of `Clips.modality(m)` into what `Method.encode`
receives, so that the runner's cached encoding and a trainable copy see the same batch.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Iterator, Sequence

import numpy as np

if TYPE_CHECKING:
    import torch


def encoder_batch(chunk: Any) -> Any:
    """Rows of `Clips.modality(m)` as `Method.encode` receives them: a float tensor (on the CPU) from an
    array, a list of captions from a list."""
    import torch

    return torch.from_numpy(np.ascontiguousarray(chunk)) if isinstance(chunk, np.ndarray) else list(chunk)


def _take(data: Any, rows: np.ndarray) -> Any:
    """Rows `rows` (any order) of an array, a lazy `RowArray` or a list of captions."""
    if isinstance(data, (list, tuple)):
        return [data[int(i)] for i in rows]
    return data[rows]


class EncodedRows:
    """The clips of one or more splits (`parts`, concatenated in order) in one modality, through a
    trainable encoder: `rows(index)` reads those rows' inputs and returns their embeddings [b, T, D] on
    `device`, with gradients unless under `torch.no_grad()`. `len`, `shape` (the width from one clip,
    encoded in eval mode, so that no random number is drawn) and `parameters()` are what a head's
    training loop asks of frozen embeddings and of a model."""

    def __init__(self, encoder: "torch.nn.Module", parts: Sequence[Any], device: str) -> None:
        self.encoder = encoder
        self.parts = list(parts)
        self.device = device
        self.offsets = np.cumsum([0, *(len(p) for p in self.parts)])
        self._shape: tuple[int, ...] | None = None

    def __len__(self) -> int:
        return int(self.offsets[-1])

    @property
    def shape(self) -> tuple[int, ...]:
        if self._shape is None:
            import torch

            with self.evaluating(), torch.no_grad():
                one = self.rows(np.zeros(1, dtype=np.int64))
            self._shape = (len(self), *one.shape[1:])
        return self._shape

    def inputs(self, index: np.ndarray) -> Any:
        """The batch of rows `index` as `encode` takes it (`encoder_batch`), read part by part."""
        index = np.asarray(index, dtype=np.int64)
        part = np.searchsorted(self.offsets[1:], index, side="right")
        if len(self.parts) == 1 or (part == part[0]).all():
            p = int(part[0]) if len(index) else 0
            return encoder_batch(_take(self.parts[p], index - self.offsets[p]))
        pieces, order = [], []
        for p in np.unique(part):
            where = np.flatnonzero(part == p)
            pieces.append(_take(self.parts[p], index[where] - self.offsets[p]))
            order.append(where)
        back = np.argsort(np.concatenate(order), kind="stable")
        if isinstance(pieces[0], list):
            flat = [c for piece in pieces for c in piece]
            return [flat[i] for i in back]
        return encoder_batch(np.concatenate(pieces)[back])

    def rows(self, index: np.ndarray) -> "torch.Tensor":
        return self.encoder(self.inputs(index)).float().to(self.device)

    def parameters(self) -> list["torch.nn.Parameter"]:
        return [p for p in self.encoder.parameters() if p.requires_grad]

    def train(self, mode: bool = True) -> "EncodedRows":
        self.encoder.train(mode)
        return self

    @contextmanager
    def evaluating(self) -> Iterator["EncodedRows"]:
        """The encoder in eval mode inside the block, in its former mode after."""
        was = self.encoder.training
        self.encoder.eval()
        try:
            yield self
        finally:
            self.encoder.train(was)

"""Per-modality whitened PCA fitted on the corpus: each modality gets a good encoder of its own, none aligned.

Audio and visual segments are PCA'd feature vectors (visual pooled over space); a caption is its
bag of words over the corpus vocabulary, PCA'd the same way. No step ever looks at two modalities
together, so a head trained on one modality sees an unrelated space in another: the lower bound.
Version 3 takes each PCA from a covariance accumulated in one streaming pass (version 2: the SVD of
every segment in memory); the axes' signs, which neither fixes, came out otherwise, so its chance-level
numbers moved (AVE a2v 3.9 -> 1.7, v2a 0.6 -> 5.0 on the default world, 3 seeds).
`trainable_encoder` hands a task a copy of a modality's projection as a trainable linear map (the
mean stays fixed), so that fine-tuning can be compared on a method with nothing aligned to lose.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Callable

import numpy as np
import torch

from pathlib import Path

from avtbench.api import Clips, Method, MethodState, Progress, UserError
from avtbench.config import setting
from avtbench.data.loader import batch_rows, batches
from avtbench.data.moments import Moments

from . import CARD
from ..features import bag_of_words, segment_vectors, vocabulary_of


BATCH_CLIPS = 16
"""Clips (and captions) read at a time in the statistics pass."""


@dataclass
class UnalignedConfig:
    """dim: size of each modality's embedding (capped by the smallest modality's input size)."""

    dim: int = setting(64, low=1)


class Unaligned(Method):
    card = CARD
    plugin_api = "3"
    config_class = UnalignedConfig

    def __init__(self, config: UnalignedConfig, device: str = "cpu", seed: int = 0, cache_dir: Path | None = None) -> None:
        super().__init__(config, device, seed, cache_dir)
        self.means: dict[str, torch.Tensor] = {}
        self.projections: dict[str, torch.Tensor] = {}
        self.vocabulary: dict[str, int] = {}

    def pretrain(self, corpus: Clips, workdir: Path, progress: Progress) -> dict[str, float]:
        """One whitened PCA per modality, from covariances accumulated in one streaming pass; all
        share the same output size so a head can cross over."""
        moments = {m: Moments() for m in ("audio", "visual")}
        rows = batch_rows([np.arange(len(corpus))], BATCH_CLIPS)
        arrays = {m: corpus.modality(m) for m in moments}
        for batch in progress.track(batches(arrays, rows), total=-(-len(corpus) // BATCH_CLIPS), description="PCA statistics"):
            for m, x in batch.items():
                vectors = segment_vectors(m, x)
                moments[m].add(vectors.reshape(-1, vectors.shape[-1]).double().numpy())
        if corpus.has("text"):
            captions = [c for caps in corpus.caption_lists() for c in caps]
            self.vocabulary = vocabulary_of(captions)
            moments["text"] = Moments()
            for start in range(0, len(captions), BATCH_CLIPS):
                moments["text"].add(bag_of_words(captions[start:start + BATCH_CLIPS], self.vocabulary).numpy())
        k = min(self.config.dim, *(len(mo.mean) for mo in moments.values()))
        explained = {}
        for modality, mo in moments.items():
            values, vectors = np.linalg.eigh(mo.covariance() * mo.count)  # X_c^T X_c: squared singular values
            order = np.argsort(values)[::-1]
            squares, top = np.clip(values[order], 0, None), vectors[:, order[:k]]
            scale = np.sqrt(squares[:k] / (mo.count - 1))
            self.means[modality] = torch.from_numpy(mo.mean).float()
            self.projections[modality] = torch.from_numpy(top / np.maximum(scale, 1e-8)).float()
            explained[f"{modality}_explained_variance"] = float(squares[:k].sum() / squares.sum())
        return explained

    def encode(self, modality: str, batch) -> torch.Tensor:
        return (self._vectors(modality, batch) - self.means[modality]) @ self.projections[modality]

    def _vectors(self, modality: str, batch) -> torch.Tensor:
        """What the projection of `modality` reads: segment vectors [B, T, D], or bags of words [B, 1, V]."""
        self._check(modality)
        if modality == "text":
            return bag_of_words(list(batch), self.vocabulary)[:, None, :]
        return segment_vectors(modality, batch)

    def _check(self, modality: str) -> None:
        if modality not in self.projections:
            raise UserError(f"unaligned has no {modality} encoder: its corpus had no {modality}")

    @classmethod
    def trainable_modalities(cls, config: UnalignedConfig) -> tuple[str, ...]:
        return cls.modalities

    def trainable_encoder(self, modality: str) -> "TrainableProjection":
        self._check(modality)
        return TrainableProjection(self.means[modality], self.projections[modality], partial(self._vectors, modality))

    def state(self) -> MethodState:
        tensors = {f"mean.{m}": v for m, v in self.means.items()}
        tensors.update({f"projection.{m}": v for m, v in self.projections.items()})
        return MethodState(tensors, {"vocabulary": list(self.vocabulary)})

    def load_state(self, state: MethodState) -> None:
        self.means = {k.split(".", 1)[1]: v for k, v in state.tensors.items() if k.startswith("mean.")}
        self.projections = {k.split(".", 1)[1]: v for k, v in state.tensors.items() if k.startswith("projection.")}
        self.vocabulary = {w: i for i, w in enumerate(state.extra.get("vocabulary", []))}


class TrainableProjection(torch.nn.Module):
    """(vectors(batch) - mean) @ projection, the projection a trainable copy: `encode` until trained."""

    def __init__(self, mean: torch.Tensor, projection: torch.Tensor, vectors: Callable[[object], torch.Tensor]) -> None:
        super().__init__()
        self.register_buffer("mean", mean.detach().clone())
        self.projection = torch.nn.Parameter(projection.detach().clone())
        self.vectors = vectors

    def forward(self, batch) -> torch.Tensor:
        return (self.vectors(batch) - self.mean) @ self.projection

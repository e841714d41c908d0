"""Linear canonical correlation analysis fitted on the corpus's co-occurring segments.

Each view is a modality: audio segments, visual segments (spatial mean, as `unaligned` takes
them) and, where the corpus has captions, each segment's clip caption as a bag of words. With two
views this is classical CCA; with three, generalised CCA in its MAXVAR form (Kettenring 1971):
whiten each centred view with a ridge (`reg` times the mean eigenvalue of its covariance, ours),
take the top `dim` left singular vectors G of the concatenated whitened views, then map each view
to G by ridge regression. For two views G spans the canonical variates, and each view's map
returns them scaled by sqrt((1 + rho) / 2), the same scale for both views, so one head reads both.
A closed form on CPU in seconds; no iterative training. Version 2 fits it from the views' joint
covariance, accumulated in one streaming pass, and signs each canonical axis so that its largest
component is positive; version 1 took the SVD of every segment held in memory, whose axes' signs
LAPACK chose, so its heads (trained from random inits on the coordinates) land a little elsewhere.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import torch

from avtbench.api import Batch, Clips, Method, MethodState, Progress, UserError
from avtbench.config import setting
from avtbench.data.loader import batch_rows, batches
from avtbench.data.moments import Moments

from . import CARD
from ..features import bag_of_words, segment_vectors, vocabulary_of

BATCH_CLIPS = 16
"""Clips read at a time in the statistics pass."""
VIEWS = {"audio,visual": ("audio", "visual"), "audio,text": ("audio", "text"), "visual,text": ("visual", "text"),
         "audio,visual,text": ("audio", "visual", "text")}


@dataclass
class CCAConfig:
    """views: the modalities fitted together (one CCA per pair; three: generalised CCA).
    dim: size of the shared space (capped by the smallest view's width).
    reg: ridge on each view's covariance, relative to its mean eigenvalue (ours; the papers that use
        CCA as a baseline rarely give theirs)."""

    views: Literal["audio,visual", "audio,text", "visual,text", "audio,visual,text"] = "audio,visual,text"
    dim: int = setting(32, low=1)
    reg: float = setting(1e-3, above=0, high=10)


class CCA(Method):
    card = CARD
    plugin_api = "3"
    config_class = CCAConfig

    def __init__(self, config: CCAConfig, device: str = "cpu", seed: int = 0, cache_dir: Path | None = None) -> None:
        super().__init__(config, device, seed, cache_dir)
        self.means: dict[str, torch.Tensor] = {}
        self.maps: dict[str, torch.Tensor] = {}
        self.vocabulary: dict[str, int] = {}

    @classmethod
    def modalities_for(cls, config: CCAConfig) -> tuple[str, ...]:
        return VIEWS[config.views]

    def pretrain(self, corpus: Clips, workdir: Path, progress: Progress) -> dict[str, float]:
        """One streaming pass accumulates the joint covariance of the views; everything after works on
        it (D x D matrices), so memory does not grow with the corpus."""
        names = VIEWS[self.config.views]
        if "text" in names:
            self.vocabulary = vocabulary_of(self._captions(corpus))
        joint = Moments()
        arrays = {m: corpus.modality(m) for m in names if m != "text"}
        steps = corpus.modality("audio" if corpus.has("audio") else "visual").shape[1]
        rows = batch_rows([np.arange(len(corpus))], BATCH_CLIPS)
        for batch in progress.track(batches(arrays, rows, with_rows=True), total=-(-len(corpus) // BATCH_CLIPS), description="cca statistics"):
            clips = batch.pop("rows").numpy()
            joint.add(np.concatenate([self._segment_rows(corpus, m, batch, clips, steps) for m in names], axis=1))
        if joint.count < 2:
            raise UserError("cca needs at least 2 corpus segments with every view; check the corpus")
        widths = [len(self.vocabulary) if m == "text" else arrays[m].shape[-1] for m in names]
        dim = min(self.config.dim, *widths)
        maps, singular = _fit(joint.covariance(), widths, joint.count, dim, self.config.reg)
        bounds = np.cumsum([0, *widths])
        for i, m in enumerate(names):
            self.means[m] = torch.from_numpy(joint.mean[bounds[i]:bounds[i + 1]].astype(np.float32))
            self.maps[m] = torch.from_numpy(maps[i].astype(np.float32))
        explained = (singular[:dim] ** 2).sum() / (singular ** 2).sum()
        return {"dim": float(dim), "top_singular_value": float(singular[0]), "explained": float(explained)}

    def _captions(self, corpus: Clips) -> list[str]:
        if not corpus.has("text"):
            raise UserError("cca.views includes text but the corpus has no captions; set cca.views=audio,visual")
        return [str(c) for c in corpus.text]

    def _segment_rows(self, corpus: Clips, modality: str, batch: dict, clips: np.ndarray, steps: int) -> np.ndarray:
        """[B * T, D] one row per segment; text repeats each clip's (first) caption on its segments."""
        if modality == "text":
            bags = bag_of_words([str(corpus.text[i]) for i in clips], self.vocabulary).numpy()
            return np.repeat(bags, steps, axis=0).astype(np.float64)
        x = segment_vectors(modality, batch[modality]).numpy()
        return x.reshape(-1, x.shape[-1]).astype(np.float64)

    def encode(self, modality: str, batch: Batch) -> torch.Tensor:
        if modality not in self.maps:
            raise UserError(f"cca was fitted on {self.config.views}, not {modality}; set cca.views to include it")
        if modality == "text":
            x = bag_of_words([str(c) for c in batch], self.vocabulary)[:, None, :]
        else:
            x = segment_vectors(modality, torch.as_tensor(batch))
        return (x - self.means[modality]) @ self.maps[modality]

    def state(self) -> MethodState:
        tensors = {f"mean.{m}": v for m, v in self.means.items()}
        tensors.update({f"map.{m}": v for m, v in self.maps.items()})
        return MethodState(tensors, {"vocabulary": list(self.vocabulary)})

    def load_state(self, state: MethodState) -> None:
        self.means = {k.split(".", 1)[1]: v for k, v in state.tensors.items() if k.startswith("mean.")}
        self.maps = {k.split(".", 1)[1]: v for k, v in state.tensors.items() if k.startswith("map.")}
        self.vocabulary = {w: i for i, w in enumerate(state.extra.get("vocabulary", []))}


def _fit(cov: np.ndarray, widths: list[int], count: int, dim: int, reg: float) -> tuple[list[np.ndarray], np.ndarray]:
    """Each view's map to the shared space, and the singular values of the whitened views side by side,
    from the joint covariance C of the views (blocks C_ij).

    With Z = [X_1 W_1, ..., X_k W_k] (X_i centred, W_i = (C_ii + ridge I)^(-1/2)), Z^T Z = n W C W
    gives Z's right singular vectors V and values s; the shared coordinates G = Z V s^-1 sqrt(n)
    (unit variance each) are never formed: view i's ridge map (C_ii + ridge I)^-1 X_i^T G / n is
    (C_ii + ridge I)^-1 [C_ij W_j]_j V s^-1 sqrt(n)."""
    bounds = np.cumsum([0, *widths])
    block = [slice(bounds[i], bounds[i + 1]) for i in range(len(widths))]
    ridged = []
    for b in block:
        c = cov[b, b]
        ridged.append(c + reg * np.trace(c) / len(c) * np.eye(len(c)))
    whiteners = [_inverse_sqrt(r) for r in ridged]
    whitener = np.zeros_like(cov)
    for b, w in zip(block, whiteners):
        whitener[b, b] = w
    values, vectors = np.linalg.eigh(whitener @ cov @ whitener * count)
    order = np.argsort(values)[::-1]
    singular = np.sqrt(np.clip(values[order], 0, None))
    axes = vectors[:, order[:dim]]
    axes = axes * np.where(axes[np.abs(axes).argmax(axis=0), np.arange(dim)] < 0, -1.0, 1.0)  # a sign LAPACK does not fix
    top = axes / np.maximum(singular[:dim], 1e-12) * np.sqrt(count)
    cross = cov @ whitener  # rows of view i: [C_ij W_j]_j
    maps = [np.linalg.solve(ridged[i], cross[b] @ top) for i, b in enumerate(block)]
    return maps, singular[: min(count, len(cov))]


def _inverse_sqrt(matrix: np.ndarray) -> np.ndarray:
    values, vectors = np.linalg.eigh(matrix)
    return vectors @ np.diag(values ** -0.5) @ vectors.T

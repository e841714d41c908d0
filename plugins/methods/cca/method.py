"""Linear canonical correlation analysis fitted on the corpus's co-occurring segments.

Each view is a modality: audio segments, visual segments (spatial mean, as `unaligned` takes
them) and, where the corpus has captions, each segment's clip caption as a bag of words. With two
views this is classical CCA; with three, generalised CCA in its MAXVAR form (Kettenring 1971):
whiten each centred view with a ridge (`reg` times the mean eigenvalue of its covariance, ours),
take the top `dim` left singular vectors G of the concatenated whitened views, then map each view
to G by ridge regression. For two views G spans the canonical variates, and each view's map
returns them scaled by sqrt((1 + rho) / 2), the same scale for both views, so one head reads both.
A closed form on CPU in seconds; no iterative training.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import torch

from avtbench.api import Batch, Clips, Method, MethodState, Progress, UserError
from avtbench.config import setting

from ..features import bag_of_words, segment_vectors, vocabulary_of

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
    name = "cca"
    version = "1"
    modalities = ("audio", "visual", "text")
    config_class = CCAConfig
    summary = "linear CCA (generalised CCA for three views) on the corpus's paired segments"

    def __init__(self, config: CCAConfig, device: str = "cpu", seed: int = 0, cache_dir: Path | None = None) -> None:
        super().__init__(config, device, seed, cache_dir)
        self.means: dict[str, torch.Tensor] = {}
        self.maps: dict[str, torch.Tensor] = {}
        self.vocabulary: dict[str, int] = {}

    @classmethod
    def modalities_for(cls, config: CCAConfig) -> tuple[str, ...]:
        return VIEWS[config.views]

    def pretrain(self, corpus: Clips, workdir: Path, progress: Progress) -> dict[str, float]:
        views = {m: self._rows(corpus, m) for m in progress.track(VIEWS[self.config.views], description="cca views")}
        lengths = {len(v) for v in views.values()}
        if len(lengths) != 1 or lengths.pop() < 2:
            raise UserError("cca needs at least 2 corpus segments with every view; check the corpus")
        dim = min(self.config.dim, *(x.shape[1] for x in views.values()))
        whitened, whiteners = {}, {}
        for m, x in views.items():
            self.means[m] = torch.from_numpy(x.mean(0).astype(np.float32))
            whitened[m], whiteners[m] = _whiten(x - x.mean(0), self.config.reg)
        u, s, _ = np.linalg.svd(np.concatenate(list(whitened.values()), axis=1), full_matrices=False)
        shared = u[:, :dim] * np.sqrt(len(u))  # unit variance per coordinate
        for m, x in views.items():
            self.maps[m] = torch.from_numpy(_ridge(x - x.mean(0), shared, self.config.reg).astype(np.float32))
        explained = (s[:dim] ** 2).sum() / (s ** 2).sum()
        return {"dim": float(dim), "top_singular_value": float(s[0]), "explained": float(explained)}

    def _rows(self, corpus: Clips, modality: str) -> np.ndarray:
        """[N * T, D] one row per segment; text repeats each clip's (first) caption on its segments."""
        steps = corpus.modality("audio" if corpus.has("audio") else "visual").shape[1]
        if modality == "text":
            if not corpus.has("text"):
                raise UserError("cca.views includes text but the corpus has no captions; set cca.views=audio,visual")
            captions = [str(c) for c in corpus.text]
            self.vocabulary = vocabulary_of(captions)
            bags = bag_of_words(captions, self.vocabulary).numpy()
            return np.repeat(bags, steps, axis=0).astype(np.float64)
        x = segment_vectors(modality, torch.from_numpy(np.ascontiguousarray(corpus.modality(modality)))).numpy()
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


def _whiten(x: np.ndarray, reg: float) -> tuple[np.ndarray, np.ndarray]:
    """(x W, W) with W = (C + ridge I)^(-1/2), C the covariance of centred x."""
    cov = x.T @ x / len(x)
    ridge = reg * np.trace(cov) / len(cov)
    values, vectors = np.linalg.eigh(cov + ridge * np.eye(len(cov)))
    w = vectors @ np.diag(values ** -0.5) @ vectors.T
    return x @ w, w


def _ridge(x: np.ndarray, y: np.ndarray, reg: float) -> np.ndarray:
    """B minimising |x B - y|^2 + ridge |B|^2, with the same relative ridge as the whitening."""
    cov = x.T @ x / len(x)
    ridge = reg * np.trace(cov) / len(cov)
    return np.linalg.solve(cov + ridge * np.eye(len(cov)), x.T @ y / len(x))

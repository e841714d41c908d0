"""Per-modality whitened PCA fitted on the corpus: each modality gets a good encoder of its own, none aligned.

Audio and visual segments are PCA'd feature vectors (visual pooled over space); a caption is its
bag of words over the corpus vocabulary, PCA'd the same way. No step ever looks at two modalities
together, so a head trained on one modality sees an unrelated space in another: the lower bound.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from pathlib import Path

from avtbench.api import Clips, Method, MethodState, Progress, UserError
from avtbench.config import setting

from ..features import bag_of_words, segment_vectors, vocabulary_of


@dataclass
class UnalignedConfig:
    """dim: size of each modality's embedding (capped by the smallest modality's input size)."""

    dim: int = setting(64, low=1)


class Unaligned(Method):
    name = "unaligned"
    version = "2"
    modalities = ("audio", "visual", "text")
    config_class = UnalignedConfig
    summary = "lower bound: per-modality whitened PCA (text: bag of words), no cross-modal training"

    def __init__(self, config: UnalignedConfig, device: str = "cpu", seed: int = 0, cache_dir: Path | None = None) -> None:
        super().__init__(config, device, seed, cache_dir)
        self.means: dict[str, torch.Tensor] = {}
        self.projections: dict[str, torch.Tensor] = {}
        self.vocabulary: dict[str, int] = {}

    def pretrain(self, corpus: Clips, workdir: Path, progress: Progress) -> dict[str, float]:
        """One whitened PCA per modality; all share the same output size so a head can cross over."""
        vectors = {m: segment_vectors(m, torch.from_numpy(corpus.modality(m))) for m in ("audio", "visual")}
        vectors = {m: x.reshape(-1, x.shape[-1]) for m, x in vectors.items()}
        if corpus.has("text"):
            captions = [c for caps in corpus.caption_lists() for c in caps]
            self.vocabulary = vocabulary_of(captions)
            vectors["text"] = bag_of_words(captions, self.vocabulary)
        k = min(self.config.dim, *(x.shape[-1] for x in vectors.values()))
        explained = {}
        for modality in progress.track(list(vectors), description="fitting PCA"):
            x = vectors[modality].double()
            mean = x.mean(0)
            _, s, vh = torch.linalg.svd(x - mean, full_matrices=False)
            scale = s[:k] / (len(x) - 1) ** 0.5
            self.means[modality] = mean.float()
            self.projections[modality] = (vh[:k].T / scale.clamp_min(1e-8)).float()
            explained[f"{modality}_explained_variance"] = float((s[:k] ** 2).sum() / (s ** 2).sum())
        return explained

    def encode(self, modality: str, batch) -> torch.Tensor:
        if modality not in self.projections:
            raise UserError(f"unaligned has no {modality} encoder: its corpus had no {modality}")
        if modality == "text":
            x = bag_of_words(list(batch), self.vocabulary)[:, None, :]
        else:
            x = segment_vectors(modality, batch)
        return (x - self.means[modality]) @ self.projections[modality]

    def state(self) -> MethodState:
        tensors = {f"mean.{m}": v for m, v in self.means.items()}
        tensors.update({f"projection.{m}": v for m, v in self.projections.items()})
        return MethodState(tensors, {"vocabulary": list(self.vocabulary)})

    def load_state(self, state: MethodState) -> None:
        self.means = {k.split(".", 1)[1]: v for k, v in state.tensors.items() if k.startswith("mean.")}
        self.projections = {k.split(".", 1)[1]: v for k, v in state.tensors.items() if k.startswith("projection.")}
        self.vocabulary = {w: i for i, w in enumerate(state.extra.get("vocabulary", []))}

"""Per-modality whitened PCA fitted on the corpus: each modality gets a good encoder of its own, none aligned."""
from __future__ import annotations

from dataclasses import dataclass

import torch

from avtbench.api import Clips, Method, Progress

from ..features import segment_vectors


@dataclass
class UnalignedConfig:
    """dim: size of each modality's embedding (capped by the modality's input size)."""

    dim: int = 64


class Unaligned(Method):
    name = "unaligned"
    version = "1"
    modalities = ("audio", "visual")
    config_class = UnalignedConfig
    summary = "lower bound: per-modality whitened PCA, no cross-modal training"

    def __init__(self, config: UnalignedConfig, device: str = "cpu", seed: int = 0) -> None:
        super().__init__(config, device, seed)
        self.means: dict[str, torch.Tensor] = {}
        self.projections: dict[str, torch.Tensor] = {}

    def pretrain(self, corpus: Clips, progress: Progress) -> dict[str, float]:
        """One whitened PCA per modality; all share the same output size so a head can cross over."""
        vectors = {m: segment_vectors(m, torch.from_numpy(corpus.modality(m))) for m in self.modalities}
        k = min(self.config.dim, *(x.shape[-1] for x in vectors.values()))
        explained = {}
        for modality in progress.track(self.modalities, description="fitting PCA"):
            x = vectors[modality].reshape(-1, vectors[modality].shape[-1]).double()
            mean = x.mean(0)
            _, s, vh = torch.linalg.svd(x - mean, full_matrices=False)
            scale = s[:k] / (len(x) - 1) ** 0.5
            self.means[modality] = mean.float()
            self.projections[modality] = (vh[:k].T / scale.clamp_min(1e-8)).float()
            explained[f"{modality}_explained_variance"] = float((s[:k] ** 2).sum() / (s ** 2).sum())
        return explained

    def encode(self, modality: str, batch: torch.Tensor) -> torch.Tensor:
        x = segment_vectors(modality, batch)
        return (x - self.means[modality]) @ self.projections[modality]

    def state_dict(self) -> dict[str, torch.Tensor]:
        state = {f"mean.{m}": v for m, v in self.means.items()}
        state.update({f"projection.{m}": v for m, v in self.projections.items()})
        return state

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        self.means = {k.split(".", 1)[1]: v for k, v in state.items() if k.startswith("mean.")}
        self.projections = {k.split(".", 1)[1]: v for k, v in state.items() if k.startswith("projection.")}

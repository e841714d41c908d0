"""Supervised alignment: each modality's MLP feeds heads shared by all modalities, trained on the
synthetic corpus's latent events: an event classifier (`events.h5`, which class is on in each
segment) and, where the corpus has `latents.h5`, a regressor of the latent vectors of the events
heard / seen in each segment (`latent_weight`; version 1 had the classifier only). Labels say
which class a clip holds, not which instance: the latents make the bound hold on clip retrieval
too, where a linear CCA on paired clips beat the labels-only oracle.

Real pretraining corpora carry neither, so this bound exists only on the synthetic world: it
shows how much of a task is reachable when the shared space is built from what generated the data.
"""
from __future__ import annotations

import contextlib
import itertools
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from pathlib import Path

from avtbench.api import Clips, Method, MethodState, Progress, UserError
from avtbench.config import setting
from avtbench.data.loader import batch_rows, batches
from avtbench.data.npyfile import NpyRows, NpyWriter
from avtbench.toolkit import epoch_stats

from . import CARD
from ..features import segment_vectors


PASS_CLIPS = 16
"""Clips read at a time in the pass that makes the segment vectors."""


@dataclass
class OracleConfig:
    dim: int = setting(128, low=1)
    hidden: int = setting(256, low=1)
    epochs: int = setting(30, low=1)
    batch_size: int = setting(64, low=1)
    lr: float = setting(1e-3, above=0)
    latent_weight: float = setting(5.0, low=0)
    max_steps: int = setting(0, low=0)
    """Stop after this many optimiser steps (0: train every epoch; for benchmarks)."""


class Oracle(Method):
    card = CARD
    plugin_api = "3"
    config_class = OracleConfig

    def __init__(self, config: OracleConfig, device: str = "cpu", seed: int = 0, cache_dir: Path | None = None) -> None:
        super().__init__(config, device, seed, cache_dir)
        self.model: nn.ModuleDict | None = None

    def _build(self, dims: dict[str, int], n_classes: int, latent_dim: int = 0) -> nn.ModuleDict:
        c = self.config
        towers = {m: nn.Sequential(nn.LayerNorm(d), nn.Linear(d, c.hidden), nn.GELU(), nn.Linear(c.hidden, c.dim))
                  for m, d in dims.items()}
        heads = {"classifier": nn.Linear(c.dim, n_classes)}
        if latent_dim:
            heads["latents"] = nn.Linear(c.dim, latent_dim)
        return nn.ModuleDict({**towers, **heads}).to(self.device)

    def pretrain(self, corpus: Clips, workdir: Path, progress: Progress) -> dict[str, float]:
        if "events" not in corpus.labels:
            raise UserError("the oracle needs a corpus with latent event labels (events.h5), which only the synthetic world has; "
                            "remove data.corpus_root or pick another method")
        arrays: dict = self._segment_files(corpus, Path(workdir), progress)
        arrays["events"] = corpus.labels["events"]
        latent_names = [f"latents.{m}" for m in self.modalities if f"latents.{m}" in corpus.labels]
        latent_dim = 0
        if len(latent_names) == len(self.modalities) and self.config.latent_weight > 0:
            arrays.update({name: corpus.labels[name] for name in latent_names})
            latent_dim = corpus.labels[latent_names[0]].shape[-1]
        dims = {m: arrays[m].shape[-1] for m in self.modalities}
        self.model = self._build(dims, arrays["events"].shape[-1], latent_dim)
        optimizer = torch.optim.Adam(self.model.parameters(), lr=self.config.lr)
        generator = torch.Generator().manual_seed(self.seed)
        loss_fn = nn.BCEWithLogitsLoss()
        loss = torch.tensor(0.0)
        orders = (torch.randperm(len(corpus), generator=generator).numpy() for _ in range(self.config.epochs))
        rows = itertools.islice(batch_rows(orders, self.config.batch_size), self.config.max_steps or None)
        total = self.config.max_steps or self.config.epochs * -(-len(corpus) // self.config.batch_size)
        per_epoch = -(-len(corpus) // self.config.batch_size)  # batch_rows keeps a short last batch
        sums: list[float] = []
        counts: list[int] = []
        for step, batch in enumerate(progress.track(batches(arrays, rows, self.device), total=total,
                                                     description="oracle pretraining")):
            y = (batch["events"] > 0).float()
            embedded = {m: self.model[m](batch[m]) for m in self.modalities}
            loss = sum(loss_fn(self.model["classifier"](e), y) for e in embedded.values())
            if latent_dim:
                loss = loss + self.config.latent_weight * sum(
                    nn.functional.mse_loss(self.model["latents"](e), batch[f"latents.{m}"]) for m, e in embedded.items())
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if step % per_epoch == 0:
                sums.append(0.0)
                counts.append(0)
            sums[-1] += float(loss.detach())
            counts[-1] += 1
        return {"final_loss": float(loss.detach()), **epoch_stats({"loss": [s / n for s, n in zip(sums, counts)]})}

    def _segment_files(self, corpus: Clips, workdir: Path, progress: Progress) -> dict[str, NpyRows]:
        """Each modality's segment vectors [N, T, D] (`segment_vectors`: visual pooled over space), made in
        one pass over the corpus and kept in .npy files under `workdir`: the epochs then read 1/(H*W) of
        the visual bytes (1/49 at VGG19 pool5's 7 x 7) and nothing is held in memory."""
        arrays = {m: corpus.modality(m) for m in self.modalities}
        paths = {m: workdir / f"segments.{m}.npy" for m in self.modalities}
        rows = batch_rows([np.arange(len(corpus))], PASS_CLIPS)
        with contextlib.ExitStack() as files:
            writers = {m: files.enter_context(NpyWriter(paths[m], (len(corpus), a.shape[1], a.shape[-1])))
                       for m, a in arrays.items()}
            for batch in progress.track(batches(arrays, rows, with_rows=True), total=-(-len(corpus) // PASS_CLIPS),
                                        description="oracle inputs"):
                first = int(batch.pop("rows")[0])
                for m, writer in writers.items():
                    writer.write(first, segment_vectors(m, batch[m]).numpy())
        return {m: NpyRows(path) for m, path in paths.items()}

    def encode(self, modality: str, batch: torch.Tensor) -> torch.Tensor:
        if modality not in self.modalities:
            raise UserError(f"oracle encodes {' and '.join(self.modalities)}, not {modality}; pick a direction over those")
        self.model.eval()
        return self.model[modality](segment_vectors(modality, batch).to(self.device))

    def state(self) -> MethodState:
        return MethodState(dict(self.model.state_dict()))

    def load_state(self, state: MethodState) -> None:
        tensors = state.tensors
        dims = {m: tensors[f"{m}.0.weight"].shape[0] for m in self.modalities}
        latent_dim = tensors["latents.weight"].shape[0] if "latents.weight" in tensors else 0
        self.model = self._build(dims, tensors["classifier.weight"].shape[0], latent_dim)
        self.model.load_state_dict(tensors)


"""Training C-MCR's heads on the cached corpus embeddings, read batch by batch from their .npy files.

The soft embeddings each caption retrieves from the image and audio memories (semantic
enhancement) are computed once, a chunk of captions at a time, into .npy files under `workdir`
(`avtbench.data.npyfile`; no memory maps, whose touched pages would stay resident); every epoch
then streams the batches of (CLIP text, CLAP text, retrieved image, retrieved audio) rows through
the DataLoader, in the order a shuffle with the method's generator gives.

Retrieval needs each query's softmax over every memory entry and the weighted sum of all of them,
so the memory itself, one embedding per memory segment, is held whole while one of the two
retrievals runs (summing it in blocks would change the sums' rounding); the queries and the
[chunk, entries] weights stay within RETRIEVE_ELEMENTS however large the corpus.
"""
from __future__ import annotations

import itertools
from pathlib import Path
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import Tensor

from avtbench.api import Progress
from avtbench.data.loader import batch_rows, batches
from avtbench.data.npyfile import NpyRows, NpyWriter

from .config import CMCRConfig
from .losses import retrieve
from .projector import Heads

RETRIEVE_CHUNK = 4096
"""Captions per retrieval pass (`losses.retrieve`'s own chunk) while their softmax over the memory,
chunk x memory entries, stays within RETRIEVE_ELEMENTS; fewer for a larger memory."""
RETRIEVE_ELEMENTS = 1 << 22
"""16 MiB of float32 weights per pass (and as much for the similarities they come from): a budget
that does not grow with the corpus (it was 1 << 26, 256 MiB, reached only by large corpora)."""


def chunks(count: int, size: int) -> list[tuple[int, int]]:
    """[start, stop) of consecutive chunks of `size` rows, a shorter last chunk joined to the one
    before it: a product of only a few rows takes another kernel, whose sums can differ in the last
    bit from the same rows of one taller product."""
    starts = list(range(0, count, size))
    if len(starts) > 1 and count - starts[-1] < size:
        starts.pop()
    return list(zip(starts, starts[1:] + [count]))


def retrieved(queries: Any, memory: Any, tau_mem: float, path: Path, device: str) -> NpyRows:
    """The soft embeddings [Q, D] that `queries` retrieve from `memory` (`losses.retrieve`), into a
    .npy file at `path`; `queries` are read a chunk at a time."""
    bank = torch.from_numpy(np.ascontiguousarray(memory[:], dtype=np.float32)).to(device)
    chunk = max(1, min(RETRIEVE_CHUNK, RETRIEVE_ELEMENTS // max(len(bank), 1)))
    with NpyWriter(path, (len(queries), bank.shape[1])) as out:
        for start, stop in chunks(len(queries), chunk):
            part = torch.from_numpy(queries[start:stop]).to(device)
            out.write(start, retrieve(part, bank, tau_mem, stop - start).cpu().numpy())
    return NpyRows(path)


def training_inputs(embedded: dict[str, Any], config: CMCRConfig, workdir: Path, device: str) -> dict[str, Any]:
    """Per caption: its CLIP and CLAP text embeddings and, with semantic enhancement, the image and
    audio embeddings it retrieves (the order of the keys is the order noise is drawn in)."""
    inputs = {"clip_text": embedded["clip_text"], "clap_text": embedded["clap_text"]}
    if config.semantic_enhancement:
        inputs["image"] = retrieved(embedded["clip_text"], embedded["image_memory"], config.tau_mem,
                                    Path(workdir) / "cmcr_retrieved_image.npy", device)
        inputs["audio"] = retrieved(embedded["clap_text"], embedded["audio_memory"], config.tau_mem,
                                    Path(workdir) / "cmcr_retrieved_audio.npy", device)
    return inputs


def fit_heads(heads: Heads, losses: Callable[[dict[str, Tensor], torch.Generator], dict[str, Tensor]],
              inputs: dict[str, Any], config: CMCRConfig, seed: int, device: str,
              progress: Progress) -> dict[str, list[float]]:
    """Adam over `config.epochs` shuffled passes (at most `config.max_steps` steps in all); the mean
    of each loss term per epoch."""
    optimizer = torch.optim.Adam(heads.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    generator = torch.Generator().manual_seed(seed)
    n = len(inputs["clip_text"])
    batch = max(2, min(config.batch_size, n))
    names = ("loss", "inter_text", "inter_pseudo", "intra") if "image" in inputs else ("loss", "inter_text")
    history: dict[str, list[float]] = {k: [] for k in names}
    steps_left = config.max_steps or None
    for _ in progress.track(range(config.epochs), total=config.epochs, description="cmcr heads"):
        if steps_left == 0:
            break
        heads.train()
        sums, steps = dict.fromkeys(names, 0.0), 0
        order = torch.randperm(n, generator=generator).numpy()
        for part in batches(inputs, itertools.islice(batch_rows([order], batch, min_rows=2), steps_left), device):
            terms = losses(part, generator)
            optimizer.zero_grad()
            terms["loss"].backward()
            optimizer.step()
            for k in names:
                sums[k] += float(terms[k].detach())
            steps += 1
        steps_left = None if steps_left is None else steps_left - steps
        for k in names:
            history[k].append(sums[k] / max(steps, 1))
    heads.eval()
    return history

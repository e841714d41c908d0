"""Training C-MCR's heads on the cached corpus embeddings, read batch by batch from memory maps.

The soft embeddings each caption retrieves from the image and audio memories (semantic
enhancement) are computed once, a chunk of captions at a time, into memory maps under `workdir`;
every epoch then streams the batches of (CLIP text, CLAP text, retrieved image, retrieved audio)
rows through the DataLoader, in the order a shuffle with the method's generator gives.
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

from .config import CMCRConfig
from .losses import retrieve
from .projector import Heads
from .streaming import memmap_file, reopened

RETRIEVE_CHUNK = 4096
"""Captions per retrieval pass (`losses.retrieve`'s own chunk) while their softmax over the memory,
chunk x memory entries, stays within RETRIEVE_ELEMENTS; fewer for a larger memory."""
RETRIEVE_ELEMENTS = 1 << 26


def retrieved(queries: np.ndarray, memory: np.ndarray, tau_mem: float, path: Path, device: str) -> np.ndarray:
    """The soft embeddings [Q, D] that `queries` retrieve from `memory` (`losses.retrieve`), into a
    .npy memory map at `path`."""
    bank = torch.from_numpy(memory).to(device)
    chunk = max(1, min(RETRIEVE_CHUNK, RETRIEVE_ELEMENTS // max(len(memory), 1)))
    out = memmap_file(path, (len(queries), memory.shape[1]))
    for start in range(0, len(queries), chunk):
        part = torch.from_numpy(queries[start:start + chunk]).to(device)
        out[start:start + chunk] = retrieve(part, bank, tau_mem, chunk).cpu().numpy()
    return reopened(out)


def training_inputs(embedded: dict[str, np.ndarray], config: CMCRConfig, workdir: Path, device: str) -> dict[str, Any]:
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

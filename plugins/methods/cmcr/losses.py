"""C-MCR's semantic enhancement and losses on L2-normalised embeddings.

The official repository has no training code (MCR-PEFT/C-MCR, README TODO "Code for training";
issue #2 unanswered), so the shapes below follow the paper's description (semantic enhancement,
inter-MCR alignment, intra-MCR alignment; arXiv:2305.14381 abstract) and a third-party
re-implementation (HanCLIP) for the exact forms; its constants are the config defaults:

- `retrieve`: the soft embedding a query retrieves from a memory,
  normalize(softmax(q M^T / tau_mem) M), with q and M unit vectors (so q M^T are cosines);
- `add_noise`: normalize(x + sigma * N(0, I));
- `info_nce`: symmetric InfoNCE at a fixed temperature, the mean of the a->b and b->a
  cross-entropies (the re-implementation's InterLoss; the core's `symmetric_info_nce` sums them);
- `intra_l2`: the mean L2 distance between paired rows (`F.pairwise_distance`, p=2), averaged over
  the MCRs it is given (the re-implementation's IntraLoss).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def retrieval_weights(queries: Tensor, memory: Tensor, tau_mem: float) -> Tensor:
    """[Q, M] softmax over the memory of cosine similarity / tau_mem (inputs L2-normalised)."""
    return torch.softmax(queries @ memory.T / tau_mem, dim=-1)


def retrieve(queries: Tensor, memory: Tensor, tau_mem: float, chunk: int = 4096) -> Tensor:
    """[Q, D] soft embeddings that `queries` [Q, D] retrieve from `memory` [M, D], re-normalised."""
    out = [F.normalize(retrieval_weights(queries[s:s + chunk], memory, tau_mem) @ memory, dim=-1)
           for s in range(0, queries.shape[0], chunk)]
    return torch.cat(out) if out else queries.new_zeros(0, memory.shape[1])


def add_noise(x: Tensor, sigma: float, generator: torch.Generator | None = None) -> Tensor:
    """x plus Gaussian noise of std `sigma`, re-normalised (x itself when sigma is 0)."""
    if sigma <= 0:
        return x
    noise = torch.randn(x.shape, generator=generator, dtype=x.dtype).to(x.device)
    return F.normalize(x + sigma * noise, dim=-1)


def info_nce(a: Tensor, b: Tensor, tau: float) -> Tensor:
    """Symmetric InfoNCE of row-paired a and b [B, D] (normalised here): (CE(a->b) + CE(b->a)) / 2."""
    logits = F.normalize(a, dim=-1) @ F.normalize(b, dim=-1).T / tau
    labels = torch.arange(a.shape[0], device=a.device)
    return (F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels)) / 2


def intra_l2(*pairs: tuple[Tensor, Tensor]) -> Tensor:
    """Mean over rows of the L2 distance of each (x, y) pair, averaged over the pairs (one per MCR)."""
    return torch.stack([F.pairwise_distance(x, y, p=2).mean() for x, y in pairs]).mean()

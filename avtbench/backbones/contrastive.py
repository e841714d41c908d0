"""Contrastive training of two towers: CLIP's symmetric InfoNCE and the fit loop of the synthetic backbones."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Iterable

import torch
import torch.nn.functional as F
from torch import Tensor

MAX_LOGIT_SCALE = 100.0
"""CLIP clips the learned temperature so that logits are scaled by at most 100 (Radford et al. 2021, Sec. 2.5)."""


def symmetric_info_nce(a: Tensor, b: Tensor, logit_scale: Tensor, logit_scale_ba: Tensor | None = None,
                       groups: Tensor | None = None) -> Tensor:
    """CLIP's loss: cross-entropy of a->b plus b->a over cosine similarities times exp(logit_scale).

    Row i of `a` and of `b` form the positive pair; both directions are summed, as VIP-ANT's
    `CELossHead` does (zhaoyanpeng/vipant `cvap/module/decoder/loss_head.py`), where CLIP averages
    them. `logit_scale_ba` gives the b->a direction its own scale (ClapModel has `logit_scale_a`
    and `logit_scale_t`). Pairs sharing a `groups` id (e.g. the same caption text) are not
    counted as negatives of each other. Inputs need not be normalized.
    """
    similarity = F.normalize(a, dim=-1) @ F.normalize(b, dim=-1).T
    scale_ba = logit_scale if logit_scale_ba is None else logit_scale_ba
    logits_ab, logits_ba = logit_scale.exp() * similarity, scale_ba.exp() * similarity.T
    if groups is not None:
        groups = groups.to(a.device)
        same = (groups[:, None] == groups[None, :]) & ~torch.eye(len(groups), dtype=torch.bool, device=a.device)
        logits_ab, logits_ba = logits_ab.masked_fill(same, float("-inf")), logits_ba.masked_fill(same.T, float("-inf"))
    labels = torch.arange(len(a), device=a.device)
    return F.cross_entropy(logits_ab, labels) + F.cross_entropy(logits_ba, labels)


@dataclass(frozen=True)
class ContrastiveSchedule:
    """How a synthetic backbone is trained: AdamW with CLIP's ViT betas (0.9, 0.98) and eps 1e-6,
    the temperature initialised at 1/0.07 and clamped at 100 (Radford et al. 2021, Appendix F),
    on shuffled mini-batches at a constant learning rate. epochs, batch_size, lr and
    weight_decay are sized for ~1000 pairs on a CPU (CLIP itself: 32 epochs of batch 32768,
    weight decay 0.2, warm-up and cosine decay)."""

    epochs: int = 30
    batch_size: int = 128
    lr: float = 1e-3
    weight_decay: float = 0.1
    seed: int = 0


def caption_groups(captions: list[str]) -> Tensor:
    """One id per distinct caption (case and surrounding space ignored), for `symmetric_info_nce(groups=...)`."""
    ids: dict[str, int] = {}
    return torch.tensor([ids.setdefault(c.strip().lower(), len(ids)) for c in captions])


def clamp_scales(scales: Iterable[Tensor], maximum: float = MAX_LOGIT_SCALE) -> None:
    """Keep each log scale in [0, log(maximum)], in place."""
    with torch.no_grad():
        for scale in scales:
            scale.clamp_(0.0, math.log(maximum))


def fit_contrastive(model: torch.nn.Module, embed: Callable[[Tensor], tuple[Tensor, Tensor]], groups: Tensor,
                    scales: tuple[Tensor, Tensor], schedule: ContrastiveSchedule) -> list[float]:
    """Train `model` on symmetric InfoNCE over mini-batches of pair indices; mean loss per epoch.

    `embed(index)` returns both towers' embeddings of the pairs `index`; `scales` are the log
    temperatures of the a->b and b->a directions (the same tensor twice for CLIP)."""
    optimizer = torch.optim.AdamW(model.parameters(), lr=schedule.lr, betas=(0.9, 0.98), eps=1e-6,
                                  weight_decay=schedule.weight_decay)
    generator = torch.Generator().manual_seed(schedule.seed)
    n = len(groups)
    batch = max(2, min(schedule.batch_size, n))
    losses = []
    model.train()
    for _ in range(schedule.epochs):
        order, total, steps = torch.randperm(n, generator=generator), 0.0, 0
        for start in range(0, n - 1, batch):
            index = order[start:start + batch]
            if len(index) < 2:
                continue
            a, b = embed(index)
            loss = symmetric_info_nce(a, b, scales[0], scales[1], groups=groups[index])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            clamp_scales(scales)
            total, steps = total + float(loss.detach()), steps + 1
        losses.append(total / max(steps, 1))
    return losses

"""The CMG downstream heads and their training loop, on frozen embeddings."""
from __future__ import annotations

from typing import Callable

import numpy as np
import torch
from torch import nn

from avtbench.api import Progress
from avtbench.toolkit import seeded_rng


class VideoClassifier(nn.Module):
    """CMG's AVE head: a linear map per segment, max over time, then a linear classifier."""

    def __init__(self, dim: int, n_classes: int) -> None:
        super().__init__()
        self.linear = nn.Linear(dim, dim)
        self.classifier = nn.Linear(dim, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.linear(x).max(dim=1).values)


class SegmentClassifier(nn.Module):
    """CMG's AVVP head: two linear maps per segment, one logit per class (background included)."""

    def __init__(self, dim: int, n_classes: int) -> None:
        super().__init__()
        self.linear = nn.Linear(dim, dim)
        self.classifier = nn.Linear(dim, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.linear(x))


class ExpLogLoss(nn.Module):
    """CMG's extra AVVP loss: -mean_i sum_c y_ic * log_softmax(z_i)_c * exp(-alpha_c), alpha_c learnable (init 0.1)."""

    def __init__(self, n_classes: int, alpha: float = 0.1) -> None:
        super().__init__()
        self.alpha = nn.Parameter(torch.full((n_classes,), alpha))

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return -(target * torch.log_softmax(logits, dim=-1) * torch.exp(-self.alpha)).sum(-1).mean()


def fit(
    build_head: Callable[[], nn.Module],
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    x: np.ndarray,
    y: np.ndarray,
    *,
    epochs: int,
    lr: float,
    batch_size: int,
    seed: int,
    device: str,
    progress: Progress,
    extra_params: list[nn.Parameter] | None = None,
    clip_grad: float | None = 0.5,
    after_epoch: Callable[[nn.Module], None] | None = None,
) -> nn.Module:
    """Adam with the reference's halving schedule at epochs 10, 20, 30; returns the head in eval mode.

    The head is built by `build_head()` under `seed`, inside a forked random state: its initial
    weights and the batch order depend on `seed` alone, never on what ran before (a pretraining
    in the same process, say), and the caller's random state is left as it was.
    `after_epoch(head)` runs after every epoch with the head in eval mode (for the per-epoch
    test evaluation the reference code logs and reports the best of).
    """
    with seeded_rng(seed):
        head = build_head().to(device).train()
        return _train(head, loss_fn, x, y, epochs, lr, batch_size, seed, device, progress, extra_params, clip_grad,
                      after_epoch)


def _train(head: nn.Module, loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], x: np.ndarray,
           y: np.ndarray, epochs: int, lr: float, batch_size: int, seed: int, device: str, progress: Progress,
           extra_params: list[nn.Parameter] | None, clip_grad: float | None,
           after_epoch: Callable[[nn.Module], None] | None) -> nn.Module:
    params = list(head.parameters()) + list(extra_params or [])
    optimizer = torch.optim.Adam(params, lr=lr)
    schedule = torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones=[10, 20, 30], gamma=0.5)
    inputs, targets = torch.from_numpy(np.array(x, dtype=np.float32)), torch.from_numpy(np.array(y))  # copies: x may be a read-only memory map
    generator = torch.Generator().manual_seed(seed)
    for _ in progress.track(range(epochs), description="training head"):
        for idx in torch.randperm(len(inputs), generator=generator).split(batch_size):
            loss = loss_fn(head(inputs[idx].to(device)), targets[idx].to(device))
            optimizer.zero_grad()
            loss.backward()
            if clip_grad:
                nn.utils.clip_grad_norm_(params, clip_grad)
            optimizer.step()
        schedule.step()
        if after_epoch is not None:
            after_epoch(head.eval())
            head.train()
    return head.eval()


@torch.no_grad()
def predict(head: nn.Module, x: np.ndarray, device: str, batch_size: int = 256) -> np.ndarray:
    out = [head(torch.from_numpy(np.array(x[i:i + batch_size], dtype=np.float32)).to(device)).cpu() for i in range(0, len(x), batch_size)]
    return torch.cat(out).numpy()

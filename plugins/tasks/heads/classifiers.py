"""The CMG downstream heads and their training loop, on frozen embeddings or through a fine-tuned encoder.

Fine-tuning (`x` an `avtbench.finetune.EncodedRows`): the encoder's parameters join Adam as a second
group at `encoder_lr`, halved on the same schedule, its gradient norm clipped on its own as the reference
clips each of its models (haihuangcode/CMG `code/src/ave.py:231-233`, models = [Encoder, Decoder]); the
encoder trains in train mode (dropout on, as `to_train(models)` at `ave.py:176-177` puts even the frozen
one) and each batch is read and encoded as it comes. CMG's released scripts never train the encoder:
their Adam holds only the head (`ave.py:106`, `avvp.py:148`, `ave_avvp.py:147`) and encode under
`torch.no_grad()` ("Freeze Encoder", `ave.py:201-214`); its appendix Table 2 fine-tunes it without
saying how, so this setup and every `encoder_lr` default are ours.
"""
from __future__ import annotations

from typing import Callable, Union

import numpy as np
import torch
from torch import nn

from avtbench.api import Progress
from avtbench.finetune import EncodedRows
from avtbench.toolkit import seeded_rng

Inputs = Union[np.ndarray, EncodedRows]
"""What a head reads: frozen embeddings [N, T, D], or the clips through a trainable encoder."""


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
    x: Inputs,
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
    encoder_lr: float | None = None,
) -> nn.Module:
    """Adam with the reference's halving schedule at epochs 10, 20, 30; returns the head in eval mode.

    The head is built by `build_head()` under `seed`, inside a forked random state: its initial
    weights and the batch order depend on `seed` alone, never on what ran before (a pretraining
    in the same process, say), and the caller's random state is left as it was.
    `after_epoch(head)` runs after every epoch with the head in eval mode (for the per-epoch
    test evaluation the reference code logs and reports the best of). With `x` an `EncodedRows`, its
    encoder trains too, at `encoder_lr` (see the module docstring), and is left in eval mode.
    """
    with seeded_rng(seed):
        head = build_head().to(device).train()
        return _train(head, loss_fn, x, y, epochs, lr, batch_size, seed, device, progress, extra_params, clip_grad,
                      after_epoch, encoder_lr)


def _train(head: nn.Module, loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], x: Inputs,
           y: np.ndarray, epochs: int, lr: float, batch_size: int, seed: int, device: str, progress: Progress,
           extra_params: list[nn.Parameter] | None, clip_grad: float | None,
           after_epoch: Callable[[nn.Module], None] | None, encoder_lr: float | None) -> nn.Module:
    params = list(head.parameters()) + list(extra_params or [])
    if isinstance(x, EncodedRows):
        if encoder_lr is None:
            raise ValueError("fine-tuning an encoder needs its encoder_lr")
        encoder = x.train().parameters()
        optimizer = torch.optim.Adam([{"params": params}, {"params": encoder, "lr": encoder_lr}], lr=lr)
        batch_of = lambda idx: x.rows(idx.numpy())  # noqa: E731
    else:
        encoder = []
        optimizer = torch.optim.Adam(params, lr=lr)
        inputs = torch.from_numpy(np.array(x, dtype=np.float32))  # a copy: x may be a read-only memory map
        batch_of = lambda idx: inputs[idx].to(device)  # noqa: E731
    schedule = torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones=[10, 20, 30], gamma=0.5)
    targets = torch.from_numpy(np.array(y))
    generator = torch.Generator().manual_seed(seed)
    for _ in progress.track(range(epochs), description="training head"):
        for idx in torch.randperm(len(x), generator=generator).split(batch_size):
            loss = loss_fn(head(batch_of(idx)), targets[idx].to(device))
            optimizer.zero_grad()
            loss.backward()
            if clip_grad:
                nn.utils.clip_grad_norm_(params, clip_grad)
                if encoder:
                    nn.utils.clip_grad_norm_(encoder, clip_grad)
            optimizer.step()
        schedule.step()
        if after_epoch is not None:
            after_epoch(head.eval())
            head.train()
    if isinstance(x, EncodedRows):
        x.train(False)
    return head.eval()


@torch.no_grad()
def predict(head: nn.Module, x: Inputs, device: str, batch_size: int = 256) -> np.ndarray:
    if isinstance(x, EncodedRows):
        with x.evaluating():
            out = [head(x.rows(np.arange(i, min(i + batch_size, len(x))))).cpu() for i in range(0, len(x), batch_size)]
    else:
        out = [head(torch.from_numpy(np.array(x[i:i + batch_size], dtype=np.float32)).to(device)).cpu() for i in range(0, len(x), batch_size)]
    return torch.cat(out).numpy()

"""VIP-ANT's optimiser when `configs/optimizer/standard.yaml:1` sets `use_lars: True` (it does, and neither
run script overrides it): LARS with a per-step learning-rate schedule, as `cvap/module/lars.py` and
`cvap/monitor/cvalp.py` use it (written here from that description, in plain torch).

Parameters fall into two groups (`cvap/monitor/cvalp.py:326-329`): weights (two or more dimensions) and
biases (fewer: biases, LayerNorm gains, the class embedding, the log temperatures). Each step, for a
parameter p with gradient g (`cvap/module/lars.py:43-72`):
- weights only: g += weight_decay * p, then g *= eta * |p| / |g| when both norms are positive (the
  trust ratio); biases skip both (`exclude_bias_or_norm`, `lars.py:6-7`, passed as both filters at
  `cvalp.py:331-337`);
- mu = momentum * mu + g; p -= lr * mu (`lars.py:66-72`), momentum 0.9 and eta 0.001 (`lars.py:28-29`).

The rate (`adjust_learning_rate`, `lars.py:9-22`, called before every step, `cvalp.py:182-183`) is
base = batch_size / 256, rising linearly from 0 over the first `warmup_epochs` epochs of steps
(`warmup_epoch: 10`, `standard.yaml:5`), then a half cosine from base to base / 1000 over the remaining
steps of all epochs; weights take it times 0.2 and biases times 0.0048 (`lr_weight`, `lr_bias`,
`standard.yaml:10-11`). `optimizer.warmup=False` in `bash/run_bimodal_va.sh:26` does not touch this
warm-up: it only gates the warm-up of the non-LARS branch (`cvalp.py:187`). The weight decay is
`weight_decay: 1e-6` (`standard.yaml:7`, `cvalp.py:334`); `lr: 5e-4` (`standard.yaml:6`) feeds only
the non-LARS Adam (`cvalp.py:338-342`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable

import torch
from torch import nn

MOMENTUM = 0.9
ETA = 0.001
"""LARS's momentum and trust coefficient, the defaults of `cvap/module/lars.py:28-29` (the reference passes neither)."""
END_FRACTION = 0.001
"""The cosine ends at base * 0.001 (`cvap/module/lars.py:19`)."""


def is_bias(p: torch.Tensor) -> bool:
    """Biases, norms, scalars: no weight decay and no trust ratio (`exclude_bias_or_norm`)."""
    return p.ndim < 2


class Lars(torch.optim.Optimizer):
    """LARS as VIP-ANT steps it: decoupled from `lr` at construction (the schedule sets each group's rate)."""

    def __init__(self, groups: Iterable[dict], weight_decay: float = 0.0, momentum: float = MOMENTUM, eta: float = ETA) -> None:
        super().__init__(list(groups), dict(lr=0.0, weight_decay=weight_decay, momentum=momentum, eta=eta))

    @torch.no_grad()
    def step(self, closure=None):  # noqa: ANN001 (torch's signature)
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                update = p.grad
                if not is_bias(p):
                    update = update.add(p, alpha=group["weight_decay"])
                    p_norm, u_norm = torch.norm(p), torch.norm(update)
                    trust = torch.where((p_norm > 0) & (u_norm > 0), group["eta"] * p_norm / u_norm, torch.ones_like(p_norm))
                    update = update.mul(trust)
                state = self.state[p]
                if "mu" not in state:
                    state["mu"] = torch.zeros_like(p)
                state["mu"].mul_(group["momentum"]).add_(update)
                p.add_(state["mu"], alpha=-group["lr"])


@dataclass(frozen=True)
class LarsSchedule:
    """The per-step rate of `adjust_learning_rate`: `steps_per_epoch` x `epochs` steps in all."""

    batch_size: int
    steps_per_epoch: int
    epochs: int
    warmup_epochs: float
    lr_weights: float
    lr_biases: float

    def base(self, step: int) -> float:
        peak = self.batch_size / 256
        total = self.epochs * self.steps_per_epoch
        warmup = int(self.warmup_epochs * self.steps_per_epoch)
        if step < warmup:
            return peak * step / warmup
        step, total = step - warmup, total - warmup
        q = 0.5 * (1 + math.cos(math.pi * step / total)) if total > 0 else 1.0
        return peak * q + peak * END_FRACTION * (1 - q)

    def apply(self, optimizer: torch.optim.Optimizer, step: int) -> None:
        """Set the weights' and the biases' rates for global step `step` (0 for the first)."""
        rate = self.base(step)
        optimizer.param_groups[0]["lr"] = rate * self.lr_weights
        optimizer.param_groups[1]["lr"] = rate * self.lr_biases


def lars_groups(module: nn.Module) -> list[dict]:
    """[weights, biases] of `module`'s trainable parameters, in that order (`cvalp.py:326-329`)."""
    params = [p for p in module.parameters() if p.requires_grad]
    return [{"params": [p for p in params if not is_bias(p)]}, {"params": [p for p in params if is_bias(p)]}]

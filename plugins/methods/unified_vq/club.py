"""CLUB: a contrastive log-ratio upper bound of mutual information (Cheng et al., ICML 2020).

CMG minimizes I(quantized semantic code; modality-specific feature) per modality so that the
specific encoder keeps what the shared code does not (the paper's DCID module). Follows
`CLUBSample_group` in haihuangcode/CMG `model/CLUB.py` (mu and log-variance MLPs, tanh on the
log-variance, negatives by shuffling clips) and `mi_first_forward` / `mi_second_forward` in
`code/src/pretrain.py` (q_theta trained several steps per main step on detached inputs).
"""
from __future__ import annotations

import torch
from torch import Tensor, nn


def _mlp(in_dim: int, hidden: int, out_dim: int) -> list[nn.Module]:
    half = max(hidden // 2, 1)
    return [nn.Linear(in_dim, half), nn.ReLU(), nn.Linear(half, half), nn.ReLU(),
            nn.Linear(half, half), nn.ReLU(), nn.Linear(half, out_dim)]


class CLUB(nn.Module):
    """Variational net q_theta(y | x) = N(mu(x), diag exp(logvar(x))) and the CLUB estimator.

    Inputs are [B, T, D] (or [B, D]); every (clip, time) position is one sample.
    """

    def __init__(self, x_dim: int, y_dim: int, hidden: int = 256) -> None:
        super().__init__()
        self.mu = nn.Sequential(*_mlp(x_dim, hidden, y_dim))
        self.logvar = nn.Sequential(*_mlp(x_dim, hidden, y_dim), nn.Tanh())

    def log_likelihood(self, x: Tensor, y: Tensor) -> Tensor:
        """Unnormalized mean log q_theta(y|x) = -1/2 sum_d [(y - mu)^2 / var + logvar]; maximized to train q_theta."""
        mu, logvar = self.mu(x), self.logvar(x)
        ll = -((y - mu) ** 2) / logvar.exp() - logvar
        return ll.sum(-1).mean() / 2

    def learning_loss(self, x: Tensor, y: Tensor) -> Tensor:
        """Loss that fits q_theta, on detached inputs so that only q_theta learns from it."""
        return -self.log_likelihood(x.detach(), y.detach())

    def forward(self, x: Tensor, y: Tensor, generator: torch.Generator | None = None) -> Tensor:
        """The bound: E[log q(y_i|x_i)] - E[log q(y_perm(i)|x_i)], negatives from a random clip permutation.

            I_CLUB = 1/N sum_i [ -sum_d (y_i - mu_i)^2 / (2 var_i) + sum_d (y_perm(i) - mu_i)^2 / (2 var_i) ]

        (the log-variance terms cancel). Near 0 when x and y are independent and q fits, positive
        when they are dependent; gradients flow into x and y (the encoders), and into q_theta,
        whose optimizer is separate.
        """
        mu, logvar = self.mu(x), self.logvar(x)
        perm = torch.randperm(x.shape[0], generator=generator, device="cpu").to(y.device)
        var = logvar.exp()
        positive = -((mu - y) ** 2 / var).sum(-1) / 2
        negative = -((mu - y[perm]) ** 2 / var).sum(-1) / 2
        return (positive - negative).mean()

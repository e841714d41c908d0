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

    def forward(self, x: Tensor, y: Tensor, generator: torch.Generator | None = None, average: str = "clip") -> Tensor:
        """The bound: E[log q(y_i|x_i)] - E[log q(y_perm(i)|x_i)], negatives from a random clip permutation.

        average="position" takes every (clip i, time t) as a sample:

            I = 1/(B T) sum_i,t [ -sum_d (y_it - mu_it)^2 / (2 var_it) + sum_d (y_perm(i)t - mu_it)^2 / (2 var_it) ]

        average="clip" (the reference code) makes one term per clip from time means, for [B, T, D]
        inputs: the squared error averaged over t, divided by exp of the log-variance averaged over t:

            I = 1/B sum_i sum_d [ -mean_t (y_it - mu_it)^2 + mean_t (y_perm(i)t - mu_it)^2 ] / (2 exp(mean_t logvar_it))

        (the log-variance terms cancel in both). Near 0 when x and y are independent and q fits,
        positive when they are dependent; gradients flow into x and y (the encoders), and into
        q_theta, whose optimizer is separate. [B, D] inputs are the same under both.
        """
        mu, logvar = self.mu(x), self.logvar(x)
        perm = torch.randperm(x.shape[0], generator=generator, device="cpu").to(y.device)
        if average == "clip" and x.dim() == 3:
            scale = logvar.mean(1).exp()  # [B, D]
            positive = -((mu - y) ** 2).mean(1) / scale
            negative = -((mu - y[perm]) ** 2).mean(1) / scale
            return (positive.sum(-1) - negative.sum(-1)).mean() / 2
        var = logvar.exp()
        positive = -((mu - y) ** 2 / var).sum(-1) / 2
        negative = -((mu - y[perm]) ** 2 / var).sum(-1) / 2
        return (positive - negative).mean()

"""The three terms of L = L_rec + lambda_1 L_c + lambda_2 (L_a2t + L_v2t).

- `masked_mse`: CAV-MAE's `forward_mae_loss`: per-patch MSE against the (optionally per-patch
  normalised) input patches, averaged over the masked patches only.
- `nce`: CAV-MAE's `forward_contrastive` generalised to a temperature and any pair of embedding
  sets: inputs L2-normalised, logits = x @ y.T / tau; one direction is -mean(diag(log_softmax(logits,
  dim=0))) (each column's positive among all rows), both directions average it with its transpose.
  L_c is nce(a, v, 0.05); the text terms are InfoNCE (van den Oord et al.) in the same form,
  nce(a, t, text_tau) and nce(v, t, text_tau) — which direction and temperature the paper used is not
  known (ours: CAV-MAE's). `groups` marks rows that share a caption: they are not each other's
  negatives.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def patchify(images: Tensor, patch: int) -> Tensor:
    """[B, C, H, W] -> [B, (H/p) * (W/p), p * p * C], row-major patches, each (row, col, channel) ordered
    as CAV-MAE's `patchify` (einsum 'nchpwq->nhwpqc')."""
    b, c, h, w = images.shape
    x = images.reshape(b, c, h // patch, patch, w // patch, patch)
    return torch.einsum("nchpwq->nhwpqc", x).reshape(b, (h // patch) * (w // patch), patch * patch * c)


def pixel_targets(patches: Tensor, normalize: bool) -> Tensor:
    """`norm_pix_loss`: each patch minus its mean over its pixels, divided by sqrt(var + 1e-6) (unbiased var)."""
    if not normalize:
        return patches
    mean = patches.mean(dim=-1, keepdim=True)
    var = patches.var(dim=-1, keepdim=True)
    return (patches - mean) / (var + 1.0e-6) ** 0.5


def masked_mse(prediction: Tensor, target: Tensor, mask: Tensor) -> Tensor:
    """Mean over masked patches (mask 1 = removed) of each patch's mean squared error."""
    per_patch = ((prediction - target) ** 2).mean(dim=-1)
    return (per_patch * mask).sum() / mask.sum().clamp_min(1)


def nce(x: Tensor, y: Tensor, tau: float, bidirectional: bool = False, groups: Tensor | None = None) -> Tensor:
    """Contrastive loss of row-aligned pairs (x_i, y_i) over the batch (see the module docstring)."""
    logits = F.normalize(x, dim=-1) @ F.normalize(y, dim=-1).T / tau
    if groups is not None:
        same = (groups[:, None] == groups[None, :]) & ~torch.eye(len(groups), dtype=torch.bool, device=x.device)
        logits = logits.masked_fill(same.to(x.device), float("-inf"))
    forward = -torch.diagonal(F.log_softmax(logits, dim=0)).mean()
    if not bidirectional:
        return forward
    backward = -torch.diagonal(F.log_softmax(logits.T, dim=0)).mean()
    return (forward + backward) / 2

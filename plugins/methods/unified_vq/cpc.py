"""Cross-modal contrastive predictive coding (Cross-CPC, part of the paper's DCID module) on the
pre-quantization semantic features, and the plain-InfoNCE ablation of the paper's Table 4.

Follows `Cross_CPC` / `Cross_CPC_AVT` in haihuangcode/CMG `model/CPC.py`: one autoregressive
LSTM per modality summarizes steps 0..t into c_t; a linear head per step k predicts z_{t+k};
every modality's prediction is scored against every modality's true future over the batch.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class CrossCPC(nn.Module):
    """Cross-CPC loss over 2 or 3 modalities.

    With t drawn uniformly from [min_start, T - K) once per call, c_t^m = LSTM_m(z^m_{0..t}) and
    pred^m_k = W^m_k c_t^m, the loss is

        L = -1/(B K) sum_k sum_{(o, m)} w_om sum_i log softmax_j ( z^o_{t+k}(i) . pred^m_k(j) )

    with w_om = 1 for o != m (predict the other modality's future) and `self_weight` (0.1) for
    o = m. Returns the loss and the top-1 accuracy of each (target, predictor) pair at k = 1.
    """

    def __init__(self, modalities: tuple[str, ...], dim: int = 256, context_dim: int = 256, layers: int = 2,
                 prediction_steps: int = 1, min_start: int = 1, self_weight: float = 0.1) -> None:
        super().__init__()
        if not 1 <= prediction_steps <= 4:
            raise ValueError(f"prediction_steps must be 1-4, got {prediction_steps}")
        self.modalities = tuple(modalities)
        self.prediction_steps = prediction_steps
        self.min_start = min_start
        self.self_weight = self_weight
        self.context = nn.ModuleDict({m: nn.LSTM(dim, context_dim, layers, batch_first=True) for m in self.modalities})
        self.predictors = nn.ModuleDict({
            m: nn.ModuleList([nn.Linear(context_dim, dim) for _ in range(prediction_steps)]) for m in self.modalities
        })

    def forward(self, features: dict[str, Tensor], generator: torch.Generator | None = None) -> tuple[Tensor, dict[str, Tensor]]:
        names = [m for m in self.modalities if m in features]
        batch, steps, _ = features[names[0]].shape
        k_max = self.prediction_steps
        start = min(self.min_start, max(steps - k_max - 1, 0))
        span = steps - k_max - start
        if span < 1:
            raise ValueError(f"sequences of {steps} steps are too short for {k_max} prediction steps")
        t = start + int(torch.randint(span, (1,), generator=generator).item())
        preds = {}
        for m in names:
            context, _ = self.context[m](features[m][:, : t + 1])
            c = context[:, t]
            preds[m] = [head(c) for head in self.predictors[m]]
        target = torch.arange(batch, device=features[names[0]].device)
        loss = features[names[0]].new_zeros(())
        accuracy = {}
        for k in range(k_max):
            for o in names:
                future = features[o][:, t + k + 1]
                for m in names:
                    scores = future @ preds[m][k].t()
                    weight = self.self_weight if o == m else 1.0
                    loss = loss + weight * F.cross_entropy(scores, target, reduction="sum")
                    if k == 0:
                        accuracy[f"{o[0]}{m[0]}"] = (scores.argmax(0) == target).float().mean().detach()
        return loss / (batch * k_max), accuracy


class PooledInfoNCE(nn.Module):
    """Ablation of Cross-CPC (`alignment=infonce`): symmetric InfoNCE between time-pooled semantic vectors of
    every modality pair, L = sum_{a<b} 1/2 [CE(s_ab / tau) + CE(s_ab^T / tau)] with
    s_ab(i, j) = cos(mean_t z^a(i), mean_t z^b(j)), the other clips of the batch as negatives.

    The paper's appendix D.3 (Table 4): "compress the sequence audio, visual, and text information into
    single vectors and then directly apply contrastive learning among these three modalities". The
    reference code has no such path (haihuangcode/CMG @ 3b31fa0 `code/src/model/main_model_2.py:15`
    imports `info_nce.InfoNCE` and never calls it). The mean over time is how the authors pool for
    `InfoNCE` in their later code (`ACL25-FCID&TOC/src/model/main_model_2_dcid.py:1932-1934`, commented
    out there), whose loss, like `info_nce`'s default, is one direction per pair; both directions
    and tau = 0.1 (`info_nce`'s default) are ours.
    """

    def __init__(self, modalities: tuple[str, ...], temperature: float = 0.1) -> None:
        super().__init__()
        self.modalities = tuple(modalities)
        self.temperature = temperature

    def forward(self, features: dict[str, Tensor], generator: torch.Generator | None = None) -> tuple[Tensor, dict[str, Tensor]]:
        names = [m for m in self.modalities if m in features]
        pooled = {m: F.normalize(features[m].mean(1), dim=-1) for m in names}
        target = torch.arange(pooled[names[0]].shape[0], device=pooled[names[0]].device)
        loss = pooled[names[0]].new_zeros(())
        accuracy = {}
        for i, a in enumerate(names):
            for b in names[i + 1:]:
                scores = pooled[a] @ pooled[b].t() / self.temperature
                loss = loss + 0.5 * (F.cross_entropy(scores, target) + F.cross_entropy(scores.t(), target))
                accuracy[f"{a[0]}{b[0]}"] = (scores.argmax(1) == target).float().mean().detach()
        return loss, accuracy

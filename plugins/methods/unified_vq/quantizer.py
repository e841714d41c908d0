"""The shared codebook: straight-through VQ, multi-modal EMA updates, cross-modal commitment,
the CMCM code-matching loss and the reset of idle codes.

Follows `Cross_VQEmbeddingEMA` / `Cross_VQEmbeddingEMA_AVT` in haihuangcode/CMG
`code/src/model/main_model_2.py` and the paper's MM-EMA and CMCM descriptions.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import Tensor, nn


CMCM_NORMALISERS = ("sum_eps", "cross_entropy")
IDLE_COUNTING = ("always", "train")


@dataclass
class QuantizerOutput:
    """Per modality: straight-through quantized features [B,T,D], code indices [B,T] and the
    commitment loss; plus the CMCM loss over modality pairs and per-modality perplexities."""

    quantized: dict[str, Tensor]
    indices: dict[str, Tensor]
    commitment: dict[str, Tensor]
    cmcm: Tensor
    perplexity: dict[str, Tensor] = field(default_factory=dict)


class UnifiedCodebook(nn.Module):
    """A codebook of `size` vectors of width `dim` shared by every modality.

    Buffers (no gradients; updated by EMA):
      embedding [M, D]  the codes e_i
      ema_count [M]     N_i, smoothed assignment counts
      ema_weight [M, D] o_i, smoothed sums of assigned features
      idle [M]          training batches since code i was last chosen by any modality
                        (-1 at start, as in the reference)

    `reset_after`: idle batches before a code is re-seeded; 300 in the reference code, 200 in the
    paper's appendix. Every trained modality keeps a code alive, as in `code/src/model/main_model_2.py`
    (its audio-visual-text codebook counts audio, visual and text choices); the copy of that file
    under `code/AVSBench_dowmstream` counts only audio and visual ones.

    The ablations of the paper's Figure 2, each on (the reference) by default: `mm_ema` false makes
    the EMA update plain VQ-VAE EMA (`ema_update`), `cross_commitment` false the commitment loss
    VQ-VAE's (`forward`), `code_reset` false leaves idle codes where they are (`reset_idle`).
    """

    def __init__(self, size: int = 400, dim: int = 256, decay: float = 0.99, commitment_cost: float = 0.25,
                 reset_after: int = 300, active_window: int = 100, epsilon: float = 1e-5,
                 cmcm_normaliser: str = "cross_entropy", idle_counting: str = "train", mm_ema: bool = True,
                 cross_commitment: bool = True, code_reset: bool = True) -> None:
        super().__init__()
        if cmcm_normaliser not in CMCM_NORMALISERS:
            raise ValueError(f"cmcm_normaliser must be one of {CMCM_NORMALISERS}, got {cmcm_normaliser!r}")
        if idle_counting not in IDLE_COUNTING:
            raise ValueError(f"idle_counting must be one of {IDLE_COUNTING}, got {idle_counting!r}")
        self.cmcm_normaliser = cmcm_normaliser
        self.idle_counting = idle_counting
        self.mm_ema = mm_ema
        self.cross_commitment = cross_commitment
        self.code_reset = code_reset
        self.decay = decay
        self.commitment_cost = commitment_cost
        self.reset_after = reset_after
        self.active_window = active_window
        self.epsilon = epsilon
        bound = 1.0 / size
        embedding = torch.empty(size, dim).uniform_(-bound, bound)
        self.register_buffer("embedding", embedding)
        self.register_buffer("ema_count", torch.zeros(size))
        self.register_buffer("ema_weight", embedding.clone())
        self.register_buffer("idle", -torch.ones(size, dtype=torch.long))

    @property
    def size(self) -> int:
        return self.embedding.shape[0]

    def distances(self, flat: Tensor) -> Tensor:
        """Squared Euclidean distances [N, M] between features [N, D] and every code."""
        return (flat.pow(2).sum(1, keepdim=True) + self.embedding.pow(2).sum(1)
                - 2.0 * flat @ self.embedding.t())

    def nearest(self, x: Tensor) -> Tensor:
        """Index of the nearest code for each position of x [..., D]."""
        flat = x.detach().reshape(-1, x.shape[-1]).to(self.embedding.dtype)
        return self.distances(flat).argmin(dim=-1).reshape(x.shape[:-1])

    def lookup(self, indices: Tensor) -> Tensor:
        return F.embedding(indices, self.embedding)

    def quantize(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Straight-through quantization: forward value e_k(x), gradient of the identity to x."""
        indices = self.nearest(x)
        codes = self.lookup(indices).to(x.dtype)
        return x + (codes - x).detach(), indices

    def forward(self, features: dict[str, Tensor]) -> QuantizerOutput:
        """Quantize every modality's semantic features [B,T,D]; in training mode also update the codebook
        (MM-EMA), and count idle codes (re-seeding dead ones) in training mode, or in any mode when
        `idle_counting` is "always" (the reference).

        Losses are computed against the codes as they were before this batch's EMA update, as in
        the reference. Commitment for modality m (reference weights):
            L_m = beta * (2 ||x_m - sg(q_m)||^2 + sum_{o != m} w ||x_m - sg(q_o)||^2),
        with w = 1 for two modalities and 1/2 for three (mean squared errors); with
        `cross_commitment` false, VQ-VAE's L_m = beta ||x_m - sg(q_m)||^2 (main_model_2.py:1159).
        """
        names = list(features)
        indices = {m: self.nearest(x) for m, x in features.items()}
        codes = {m: self.lookup(indices[m]).to(features[m].dtype) for m in names}
        cross_w = 1.0 / max(len(names) - 1, 1)
        commitment = {}
        for m in names:
            if not self.cross_commitment:
                commitment[m] = self.commitment_cost * F.mse_loss(features[m], codes[m].detach())
                continue
            loss = 2.0 * F.mse_loss(features[m], codes[m].detach())
            for o in names:
                if o != m:
                    loss = loss + cross_w * F.mse_loss(features[m], codes[o].detach())
            commitment[m] = self.commitment_cost * loss
        cmcm = self.cmcm_loss(features)
        perplexity = {}
        for m in names:
            probs = F.one_hot(indices[m].reshape(-1), self.size).float().mean(0)
            perplexity[m] = torch.exp(-(probs * torch.log(probs + 1e-10)).sum())
        if self.training:
            flats = {m: features[m].detach().reshape(-1, features[m].shape[-1]).to(self.embedding.dtype) for m in names}
            self.ema_update(flats, {m: indices[m].reshape(-1) for m in names})
        if self.training or self.idle_counting == "always":
            self.reset_idle([indices[m].reshape(-1) for m in names])
        quantized = {m: features[m] + (codes[m] - features[m]).detach() for m in names}
        return QuantizerOutput(quantized, indices, commitment, cmcm, perplexity)

    @torch.no_grad()
    def ema_update(self, flats: dict[str, Tensor], indices: dict[str, Tensor]) -> None:
        """Multi-modal EMA (MM-EMA), applied for each modality m in turn (reference order):

            N_i <- gamma N_i + (1 - gamma) n_i^m                       (n_i^m: #positions of m on code i)
            N_i <- (N_i + eps) / (sum_j N_j + M eps) * sum_j N_j        (Laplace smoothing)
            o_i <- gamma o_i + (1 - gamma) sum_{p: k_m(p) = i} [ 1/2 x_m(p) + sum_{o != m} w x_o(p) ]
            e_i <- o_i / N_i

        where p runs over the batch's (clip, time) positions, k_m(p) is the code modality m chose
        there and w = 1/(2 (#modalities - 1)): each code is pulled both by the features that chose
        it and by the other modalities' features at the same positions, which is what makes the
        codebook shared. All indices come from the codebook before the update.

        With `mm_ema` false, each pass is VQ-VAE's EMA on that modality alone: the bracket is x_m(p),
        so a code moves towards the mean of the features of m that chose it and nothing else (the
        passes, their order and the smoothing stay those of the reference).
        """
        names = list(flats)
        size = self.size
        cross_w = 0.5 / max(len(names) - 1, 1)
        for m in names:
            onehot = F.one_hot(indices[m], size).to(self.embedding.dtype)
            count = self.decay * self.ema_count + (1 - self.decay) * onehot.sum(0)
            total = count.sum()
            self.ema_count = (count + self.epsilon) / (total + size * self.epsilon) * total
            if not self.mm_ema or len(names) == 1:
                mixed = flats[m]
            else:
                mixed = 0.5 * flats[m]
                for o in names:
                    if o != m:
                        mixed = mixed + cross_w * flats[o]
            self.ema_weight = self.decay * self.ema_weight + (1 - self.decay) * (onehot.t() @ mixed)
            self.embedding = self.ema_weight / self.ema_count.unsqueeze(-1)

    @torch.no_grad()
    def reset_idle(self, used: list[Tensor], generator: torch.Generator | None = None) -> Tensor:
        """Count one training batch; re-seed codes idle for more than `reset_after` batches.

        A dead code is replaced by a randomly chosen active code (used within the last
        `active_window` batches) plus uniform noise in [-1/1024, 1/1024], as `code/src` draws it
        (the `code/AVSBench_dowmstream` copy writes `uniform_(-1/1024, -1/1024)`, a constant offset).
        Unlike the reference, o_i is rescaled with the new e_i so that the next EMA step keeps the
        re-seeded code where it was put instead of snapping back to o_i / N_i. Returns the indices
        of the re-seeded codes. With `code_reset` false, batches are counted but nothing is re-seeded.
        """
        self.idle += 1
        for idx in used:
            self.idle[idx.reshape(-1)] = 0
        dead = torch.nonzero(self.idle > self.reset_after).flatten()
        active = torch.nonzero((self.idle >= 0) & (self.idle < self.active_window)).flatten()
        if len(dead) == 0 or len(active) == 0 or not self.code_reset:
            return dead[:0]
        device = self.embedding.device
        pick = torch.randint(len(active), (len(dead),), generator=generator, device="cpu").to(device)
        noise = torch.rand(len(dead), self.embedding.shape[1], generator=generator, device="cpu").to(device)
        noise = (noise * 2 - 1) / 1024
        new = self.embedding[active[pick]] + noise.to(self.embedding.dtype)
        self.embedding[dead] = new
        self.ema_weight[dead] = new * self.ema_count[dead].unsqueeze(-1)
        self.idle[dead] = 0
        return dead

    def cmcm_loss(self, features: dict[str, Tensor]) -> Tensor:
        """Cross-modal code matching (CMCM in the paper; `Lcmcm` in the reference).

        For each modality, p_m(b) = mean_t softmax_k(-||x_m(b,t) - e_k||) is a soft code histogram
        of clip b. The clip-pair score S_ab(i, j) = p_a(i) . log p_b(j) + p_b(i) . log p_a(j) is
        trained to pick j = i over the batch:
            L_ab = -1/B sum_i log( E_ii / (sum_j E_ij + eps) ),   CMCM = 1/2 sum_{pairs a<b} L_ab,
        with E = exp(S_ab - min S_ab) and eps = 1e-5 for `cmcm_normaliser="sum_eps"` (the reference),
        eps = 0 (a softmax cross-entropy) for "cross_entropy". Gradients reach the features, never
        the codebook (a buffer).
        """
        names = list(features)
        hist = {}
        for m in names:
            x = features[m]
            b, t, d = x.shape
            dist = self.distances(x.reshape(-1, d).to(self.embedding.dtype)).clamp_min(1e-12)
            hist[m] = F.softmax(-dist.sqrt(), dim=1).reshape(b, t, -1).mean(1)
        total = features[names[0]].new_zeros(())
        for i, a in enumerate(names):
            for bname in names[i + 1:]:
                pa, pb = hist[a], hist[bname]
                score = pa @ torch.log(pb + 1e-10).t() + pb @ torch.log(pa + 1e-10).t()
                total = total + self._match_loss(score)
        return 0.5 * total

    def _match_loss(self, score: Tensor) -> Tensor:
        """-1/B sum_i log(E_ii / (sum_j E_ij + eps)), E = exp(score - min score): eps = `epsilon` for
        "sum_eps", 0 for "cross_entropy" (then the shift cancels). The sum is taken in log space,
        log(sum_j E_ij + eps) = logaddexp(logsumexp_j (score_ij - min), log eps), so no exp overflows."""
        target = torch.arange(score.shape[0], device=score.device)
        if self.cmcm_normaliser == "cross_entropy":
            return F.cross_entropy(score, target)
        shifted = score - score.min()
        log_eps = torch.full((), self.epsilon, dtype=score.dtype, device=score.device).log()
        normaliser = torch.logaddexp(torch.logsumexp(shifted, dim=1), log_eps)
        return (normaliser - shifted.diagonal()).mean()

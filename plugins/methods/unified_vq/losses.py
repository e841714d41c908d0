"""Reconstruction losses of the modality decoders and the weighted total of a training step.

Follows `AV_VQVAE_Decoder` / `AVT_VQVAE_Decoder` (mean squared error per modality) in
haihuangcode/CMG `code/src/model/main_model_2.py` and the sum in `train_epoch` of
`code/src/pretrain.py`: recon + commitment + CLUB + Cross-CPC + CMCM, all with weight 1 there.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch.nn.functional as F
from torch import Tensor


def reconstruction_loss(reconstruction: Tensor, target: Tensor) -> Tensor:
    """Mean squared error between a decoder's output and the modality input it reconstructs."""
    return F.mse_loss(reconstruction, target)


@dataclass(frozen=True)
class LossWeights:
    recon: float = 1.0
    commit: float = 1.0
    cmcm: float = 1.0
    club: float = 1.0
    cpc: float = 1.0


def total_loss(terms: dict[str, Tensor], weights: LossWeights) -> Tensor:
    """Weighted sum of the named terms; a term's family is the part of its name before the first dot
    (`recon.audio`, `commit.visual`, `club.text`, `cpc`, `cmcm`)."""
    factor = {"recon": weights.recon, "commit": weights.commit, "cmcm": weights.cmcm, "club": weights.club, "cpc": weights.cpc}
    if not terms:
        raise ValueError("no loss terms")
    return sum(factor[name.split(".", 1)[0]] * value for name, value in terms.items())  # type: ignore[return-value]

"""VIP-ANT's modules: the audio ViT built from CLIP's image tower, and the frozen CLIP towers.

The audio encoder is `audio_vit.audio_vit_from_clip_vision` applied to the CLIP model (its
32x32 RGB kernel averaged to one channel, its square position grid interpolated to the FBANK
grid, everything else copied, the image projection included), as VIP-ANT's `ViTPreEncoder` and
`interp_clip_vp_embedding` do (zhaoyanpeng/vipant `cvap/module/val.py`). Only it and the
temperatures are trained; CLIP's image and text towers stay frozen, so audio lands in CLIP's
joint image-text space.
"""
from __future__ import annotations

import math


import torch
import torch.nn.functional as F
from torch import Tensor, nn

from avtbench.backbones.contrastive import symmetric_info_nce

from .audio_vit import AudioViT, audio_vit_from_clip_vision
from .config import VipAntConfig


class VipAntAudio(nn.Module):
    """The trainable part: the audio ViT and one learnable temperature per contrastive pair.

    `logit_scale_va` (audio-image) and `logit_scale_at` (audio-text, used by curation) start at
    `config.logit_scale_init`; VIP-ANT keeps one `CELossHead` (with its own scale) per modality pair
    (`VALCELossHead` in `cvap/module/decoder/loss_head.py`).
    """

    def __init__(self, audio: AudioViT, config: VipAntConfig) -> None:
        super().__init__()
        self.audio = audio
        self.logit_scale_va = nn.Parameter(torch.tensor(float(config.logit_scale_init)))
        self.logit_scale_at = nn.Parameter(torch.tensor(float(config.logit_scale_init)))
        self.max_log_scale = None if config.logit_scale_max is None else math.log(config.logit_scale_max)

    @classmethod
    def from_clip(cls, clip: nn.Module, config: VipAntConfig) -> "VipAntAudio":
        audio = audio_vit_from_clip_vision(clip, n_frames=config.frames, n_mels=config.num_mel_bins, stride=config.stride)
        return cls(audio, config)

    def forward(self, fbank: Tensor) -> Tensor:
        """Normalized FBANK [N, frames, mel] -> L2-normalized audio embeddings [N, D] in CLIP space."""
        return F.normalize(self.audio(fbank), dim=-1)

    def loss_va(self, audio: Tensor, image: Tensor) -> Tensor:
        return symmetric_info_nce(audio, image, self._scale(self.logit_scale_va))

    def loss_at(self, audio: Tensor, text: Tensor, groups: Tensor | None = None) -> Tensor:
        return symmetric_info_nce(audio, text, self._scale(self.logit_scale_at), groups=groups)

    def _scale(self, log_scale: Tensor) -> Tensor:
        """The log-scale the loss uses: exp of it clamped at `logit_scale_max`, if one is set (as the reference)."""
        return log_scale if self.max_log_scale is None else log_scale.clamp(max=self.max_log_scale)

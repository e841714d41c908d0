"""The unified-codebook network for two or three modalities (audio-visual, audio-text, audio-visual-text).

Mirrors `AV_VQVAE_Encoder` / `AT_VQVAE_Encoder` / `AVT_VQVAE_Encoder` and the matching decoders in
haihuangcode/CMG `code/src/model/main_model_2.py`, with the step logic of `train_epoch`,
`mi_first_forward` and `mi_second_forward` in `code/src/pretrain.py`.

Per modality m: semantic encoder -> z_m [B,T,D] -> shared codebook -> q_m; specific encoder ->
s_m; decoder(s_m, q_m) reconstructs the input; CLUB bounds I(q_m; s_m); Cross-CPC runs on z;
CMCM and the commitment losses come from the codebook.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from .club import CLUB
from .config import UnifiedVQConfig
from .cpc import CrossCPC, PooledInfoNCE
from .encoders import (LinearDecoder, LinearSpecificEncoder, TemporalEncoder, TextLSTM, VisualDecoder,
                       VisualSemanticEncoder, VisualSpecificEncoder)
from .losses import reconstruction_loss
from .quantizer import QuantizerOutput, UnifiedCodebook


@dataclass(frozen=True)
class InputDims:
    """Input sizes read from the data: audio [T, audio], visual [T, H, W, C], text token features [T, text]."""

    audio: int = 0
    height: int = 0
    width: int = 0
    channels: int = 0
    text: int = 0

    def as_list(self) -> list[int]:
        return [self.audio, self.height, self.width, self.channels, self.text]

    @classmethod
    def from_list(cls, values: list[int]) -> "InputDims":
        return cls(*[int(v) for v in values])


@dataclass
class StepState:
    """Everything one forward pass produces that the losses need."""

    semantic: dict[str, Tensor]
    specific: dict[str, Tensor]
    club_target: dict[str, Tensor]
    recon_target: dict[str, Tensor]
    codes: QuantizerOutput


class UnifiedVQModel(nn.Module):
    """Semantic encoders + shared codebook; with `training_parts`, also the specific encoders,
    decoders, Cross-CPC and the CLUB nets that only pretraining needs."""

    def __init__(self, config: UnifiedVQConfig, dims: InputDims, training_parts: bool = True) -> None:
        super().__init__()
        self.modalities = config.modality_list
        self.dims = dims
        self.club_average = config.club_average
        d = config.embedding_dim
        temporal = dict(layers=config.semantic_layers, heads=config.semantic_heads,
                        ff_dim=config.semantic_ff_dim, dropout=config.dropout)
        self.semantic = nn.ModuleDict()
        if "audio" in self.modalities:
            self.semantic["audio"] = TemporalEncoder(dims.audio, d, **temporal)
        if "visual" in self.modalities:
            self.semantic["visual"] = VisualSemanticEncoder(dims.channels, d, spatial=config.spatial_pool, **temporal)
        if "text" in self.modalities:
            self.text_lstm = TextLSTM(dims.text, config.text_lstm_hidden)
            self.semantic["text"] = TemporalEncoder(self.text_lstm.output_dim, d, **temporal)
        self.codebook = UnifiedCodebook(config.codebook_size, d, config.ema_decay, config.commitment_cost,
                                        config.reset_after, config.active_window,
                                        cmcm_normaliser=config.cmcm_normaliser, idle_counting=config.idle_counting,
                                        mm_ema=config.mm_ema, cross_commitment=config.cross_commitment,
                                        code_reset=config.code_reset)
        self.training_parts = training_parts
        if not training_parts:
            return
        self.specific = nn.ModuleDict()
        self.decoders = nn.ModuleDict()
        self.club = nn.ModuleDict()
        if "audio" in self.modalities:
            self.specific["audio"] = LinearSpecificEncoder(dims.audio, config.audio_hidden)
            self.decoders["audio"] = LinearDecoder(config.audio_hidden, dims.audio, d)
            self.club["audio"] = CLUB(d, config.audio_hidden, config.club_hidden)
        if "visual" in self.modalities:
            self.specific["visual"] = VisualSpecificEncoder(dims.channels, config.video_hidden, dims.height, dims.width,
                                                            config.residual_relu)
            self.decoders["visual"] = VisualDecoder(config.video_hidden, dims.channels, d, dims.height, dims.width,
                                                    config.residual_relu)
            self.club["visual"] = CLUB(d, dims.channels, config.club_hidden)
        if "text" in self.modalities:
            self.specific["text"] = LinearSpecificEncoder(self.text_lstm.output_dim, config.text_hidden)
            self.decoders["text"] = LinearDecoder(config.text_hidden, self.text_lstm.output_dim, d)
            self.club["text"] = CLUB(d, config.text_hidden, config.club_hidden)
        if config.alignment == "cpc":
            self.cpc: nn.Module = CrossCPC(self.modalities, d, config.cpc_context_dim, config.cpc_layers,
                                           config.prediction_steps, self_weight=config.cpc_self_weight)
        else:
            self.cpc = PooledInfoNCE(self.modalities, config.infonce_temperature)

    def semantic_input(self, modality: str, x: Tensor) -> Tensor:
        """What the semantic encoder of `modality` reads: the raw input, or the BiLSTM over token features for text."""
        return self.text_lstm(x) if modality == "text" else x

    def encode_semantic(self, modality: str, x: Tensor) -> Tensor:
        """Pre-quantization semantic features [B, T, D] of one modality's input."""
        return self.semantic[modality](self.semantic_input(modality, x))

    def quantized(self, modality: str, x: Tensor) -> tuple[Tensor, Tensor]:
        """(code vectors [B, T, D], code indices [B, T]) of one modality's input."""
        indices = self.codebook.nearest(self.encode_semantic(modality, x))
        return self.codebook.lookup(indices), indices

    def forward(self, inputs: dict[str, Tensor]) -> StepState:
        """One pass over a batch of every trained modality; in training mode the codebook is updated (MM-EMA, resets)."""
        if not self.training_parts:
            raise RuntimeError("this model was built for encoding only")
        semantic, specific, club_target, recon_target = {}, {}, {}, {}
        for m in self.modalities:
            x = self.semantic_input(m, inputs[m])
            semantic[m] = self.semantic[m](x)
            recon_target[m] = inputs[m] if m != "text" else x
            if m == "visual":
                specific[m], club_target[m] = self.specific[m](x)
            else:
                specific[m] = club_target[m] = self.specific[m](x)
        codes = self.codebook(semantic)
        return StepState(semantic, specific, club_target, recon_target, codes)

    def club_learning_loss(self, state: StepState, positions: int = 0, generator: torch.Generator | None = None) -> Tensor:
        """Sum over modalities of -log q_theta(s_m | q_m) on detached inputs (trains only the CLUB nets).

        With `positions` > 0, each modality's term uses that many (clip, time) positions drawn at
        random instead of all B*T of them.
        """
        total = None
        for m in self.modalities:
            x = state.codes.quantized[m].reshape(-1, state.codes.quantized[m].shape[-1])
            y = state.club_target[m].reshape(-1, state.club_target[m].shape[-1])
            if 0 < positions < x.shape[0]:
                pick = torch.randperm(x.shape[0], generator=generator)[:positions].to(x.device)
                x, y = x[pick], y[pick]
            term = self.club[m].learning_loss(x, y)
            total = term if total is None else total + term
        if total is None:
            raise RuntimeError("no modalities")
        return total

    def loss_terms(self, state: StepState, generator: torch.Generator | None = None) -> dict[str, Tensor]:
        """Unweighted loss terms of the main objective, named `<family>.<modality>` or `<family>`."""
        terms: dict[str, Tensor] = {}
        for m in self.modalities:
            recon = self.decoders[m](state.specific[m], state.codes.quantized[m])
            terms[f"recon.{m}"] = reconstruction_loss(recon, state.recon_target[m])
            terms[f"commit.{m}"] = state.codes.commitment[m]
            terms[f"club.{m}"] = self.club[m](state.codes.quantized[m], state.club_target[m], generator, self.club_average)
        terms["cpc"], _ = self.cpc(state.semantic, generator)
        terms["cmcm"] = state.codes.cmcm
        return terms

    def clip_groups(self) -> dict[str, list[nn.Parameter]]:
        """Parameter groups whose gradient norms are clipped separately, like the reference's per-model clipping."""
        groups = {
            "encoder": [*self.semantic.parameters(), *self.specific.parameters()],
            "cpc": list(self.cpc.parameters()),
            "decoder": list(self.decoders.parameters()),
        }
        if "text" in self.modalities:
            groups["text_lstm"] = list(self.text_lstm.parameters())
        return {k: v for k, v in groups.items() if v}

    def main_parameters(self) -> list[nn.Parameter]:
        return [p for group in self.clip_groups().values() for p in group]

"""CAV-MAE (Gong et al., ICLR 2023), as `src/models/cav_mae.py` of YuanGongND/cav-mae lays it out.

Audio FBANK [B, frames, mel] is transposed to an image [B, 1, mel, frames] and cut into 16 x 16
patches (mel / 16 rows, frames / 16 columns); frames [B, 3, S, S] likewise, in `visual_patch`-sided
patches (CAV-MAE: 16, the `paper` preset; 8 by default, see config.py). Each token gets a fixed
sin-cos position and a learned modality token. Encoder: modality-specific blocks (`blocks_a`,
`blocks_v`), then shared blocks (`blocks_u`) run three ways: on the joint sequence [audio, visual]
with the joint LayerNorms and `norm` (what the decoder reconstructs from), and on each modality
alone with that modality's LayerNorms and `norm_a` / `norm_v` (what the contrastive terms and
`embed` mean-pool). Decoder: its own width, modality tokens, positions and mask token; one
prediction head per modality.

One deviation: with several shared blocks, the reference's per-modality loop (`for blk in
self.blocks_u: ca = blk(a, 'a')`) applies only the last block; here they are chained, as the joint
stream is. With CAV-MAE's single shared block both are the same.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from .layers import Block, PatchEmbed, init_weights, sincos_2d
from .losses import masked_mse, patchify, pixel_targets


@dataclass(frozen=True)
class CavMaeSizes:
    audio_frames: int
    mel_bins: int
    image_size: int
    patch: int = 16
    visual_patch: int = 16
    width: int = 192
    specific_depth: int = 2
    shared_depth: int = 1
    heads: int = 4
    decoder_width: int = 128
    decoder_depth: int = 2
    decoder_heads: int = 4
    mlp_ratio: float = 4.0

    @property
    def audio_grid(self) -> tuple[int, int]:
        return self.mel_bins // self.patch, self.audio_frames // self.patch

    @property
    def visual_grid(self) -> tuple[int, int]:
        return self.image_size // self.visual_patch, self.image_size // self.visual_patch


@dataclass
class Encoded:
    """What the masked encoder returns: the joint stream, the masks (1 = removed) and restore orders,
    and the per-modality streams for the contrastive terms."""

    joint: Tensor
    mask_a: Tensor
    restore_a: Tensor
    mask_v: Tensor
    restore_v: Tensor
    audio: Tensor
    visual: Tensor


def random_masking(x: Tensor, ratio: float) -> tuple[Tensor, Tensor, Tensor]:
    """Per-sample random masking by argsort of uniform noise (CAV-MAE's `random_masking_unstructured`):
    keeps int(L * (1 - ratio)) tokens; returns (kept tokens, mask [B, L] with 1 = removed, restore order)."""
    b, length, d = x.shape
    keep = int(length * (1 - ratio))
    shuffle = torch.argsort(torch.rand(b, length, device=x.device), dim=1)
    restore = torch.argsort(shuffle, dim=1)
    kept = torch.gather(x, 1, shuffle[:, :keep, None].expand(-1, -1, d))
    mask = torch.ones(b, length, device=x.device)
    mask[:, :keep] = 0
    return kept, torch.gather(mask, 1, restore), restore


class CavMae(nn.Module):
    def __init__(self, sizes: CavMaeSizes) -> None:
        super().__init__()
        self.sizes = s = sizes
        self.patch_a = PatchEmbed(1, s.width, s.patch)
        self.patch_v = PatchEmbed(3, s.width, s.visual_patch)
        self.register_buffer("pos_a", sincos_2d(s.width, *s.audio_grid)[None], persistent=False)
        self.register_buffer("pos_v", sincos_2d(s.width, *s.visual_grid)[None], persistent=False)
        self.modality_a = nn.Parameter(torch.zeros(1, 1, s.width))
        self.modality_v = nn.Parameter(torch.zeros(1, 1, s.width))
        self.blocks_a = nn.ModuleList(Block(s.width, s.heads, s.mlp_ratio) for _ in range(s.specific_depth))
        self.blocks_v = nn.ModuleList(Block(s.width, s.heads, s.mlp_ratio) for _ in range(s.specific_depth))
        self.blocks_u = nn.ModuleList(Block(s.width, s.heads, s.mlp_ratio) for _ in range(s.shared_depth))
        self.norm_a, self.norm_v, self.norm = nn.LayerNorm(s.width), nn.LayerNorm(s.width), nn.LayerNorm(s.width)
        self.decoder_embed = nn.Linear(s.width, s.decoder_width)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, s.decoder_width))
        self.decoder_modality_a = nn.Parameter(torch.zeros(1, 1, s.decoder_width))
        self.decoder_modality_v = nn.Parameter(torch.zeros(1, 1, s.decoder_width))
        self.register_buffer("decoder_pos_a", sincos_2d(s.decoder_width, *s.audio_grid)[None], persistent=False)
        self.register_buffer("decoder_pos_v", sincos_2d(s.decoder_width, *s.visual_grid)[None], persistent=False)
        self.decoder_blocks = nn.ModuleList(Block(s.decoder_width, s.decoder_heads, s.mlp_ratio)
                                            for _ in range(s.decoder_depth))
        self.decoder_norm = nn.LayerNorm(s.decoder_width)
        self.decoder_pred_a = nn.Linear(s.decoder_width, s.patch ** 2)
        self.decoder_pred_v = nn.Linear(s.decoder_width, s.visual_patch ** 2 * 3)
        self._initialise()

    def _initialise(self) -> None:
        """CAV-MAE's `initialize_weights`: patch convolutions as linear layers, tokens N(0, 0.02)."""
        for embed in (self.patch_a, self.patch_v):
            weight = embed.proj.weight.data
            nn.init.xavier_uniform_(weight.view(weight.shape[0], -1))
        for token in (self.modality_a, self.modality_v, self.decoder_modality_a, self.decoder_modality_v, self.mask_token):
            nn.init.normal_(token, std=0.02)
        self.apply(init_weights)

    @property
    def width(self) -> int:
        return self.sizes.width

    def tokens(self, fbank: Tensor | None, images: Tensor | None) -> tuple[Tensor | None, Tensor | None]:
        """Patch tokens with positions and modality tokens: FBANK [B, frames, mel], images [B, 3, S, S]."""
        a = v = None
        if fbank is not None:
            a = self.patch_a(audio_image(fbank)) + self.pos_a + self.modality_a
        if images is not None:
            v = self.patch_v(images) + self.pos_v + self.modality_v
        return a, v

    def _shared(self, x: Tensor, modality: str | None) -> Tensor:
        for blk in self.blocks_u:
            x = blk(x, modality)
        return {None: self.norm, "a": self.norm_a, "v": self.norm_v}[modality](x)

    def _specific(self, x: Tensor, blocks: nn.ModuleList) -> Tensor:
        for blk in blocks:
            x = blk(x)
        return x

    def encode_masked(self, fbank: Tensor, images: Tensor, ratio_a: float, ratio_v: float) -> Encoded:
        a, v = self.tokens(fbank, images)
        assert a is not None and v is not None
        a, mask_a, restore_a = random_masking(a, ratio_a)
        v, mask_v, restore_v = random_masking(v, ratio_v)
        a, v = self._specific(a, self.blocks_a), self._specific(v, self.blocks_v)
        joint = self._shared(torch.cat([a, v], dim=1), None)
        return Encoded(joint, mask_a, restore_a, mask_v, restore_v, self._shared(a, "a"), self._shared(v, "v"))

    def decode(self, encoded: Encoded) -> tuple[Tensor, Tensor]:
        """Predicted patches [B, La, 16 * 16] and [B, Lv, p * p * 3] (p = visual_patch) from the joint stream."""
        x = self.decoder_embed(encoded.joint)
        kept_a = encoded.restore_a.shape[1] - int(encoded.mask_a[0].sum())
        a = self._unshuffle(x[:, :kept_a], encoded.restore_a)
        v = self._unshuffle(x[:, kept_a:], encoded.restore_v)
        a = a + self.decoder_pos_a + self.decoder_modality_a
        v = v + self.decoder_pos_v + self.decoder_modality_v
        x = torch.cat([a, v], dim=1)
        for blk in self.decoder_blocks:
            x = blk(x)
        x = self.decoder_norm(x)
        return self.decoder_pred_a(x[:, :a.shape[1]]), self.decoder_pred_v(x[:, a.shape[1]:])

    def _unshuffle(self, kept: Tensor, restore: Tensor) -> Tensor:
        b, length = restore.shape
        filled = torch.cat([kept, self.mask_token.expand(b, length - kept.shape[1], -1)], dim=1)
        return torch.gather(filled, 1, restore[:, :, None].expand(-1, -1, kept.shape[2]))

    def reconstruction(self, fbank: Tensor, images: Tensor, encoded: Encoded, norm_pix: bool) -> tuple[Tensor, Tensor]:
        """(L_rec audio, L_rec visual): MSE on the masked patches against (normalised) input patches."""
        pred_a, pred_v = self.decode(encoded)
        target_a = pixel_targets(patchify(audio_image(fbank), self.sizes.patch), norm_pix)
        target_v = pixel_targets(patchify(images, self.sizes.visual_patch), norm_pix)
        return masked_mse(pred_a, target_a, encoded.mask_a), masked_mse(pred_v, target_v, encoded.mask_v)

    def embed(self, fbank: Tensor | None = None, images: Tensor | None = None) -> tuple[Tensor | None, Tensor | None]:
        """Unmasked, mean-pooled per-modality embeddings [B, width] (CAV-MAE's `forward_feat`, pooled)."""
        a, v = self.tokens(fbank, images)
        if a is not None:
            a = self._shared(self._specific(a, self.blocks_a), "a").mean(dim=1)
        if v is not None:
            v = self._shared(self._specific(v, self.blocks_v), "v").mean(dim=1)
        return a, v


def audio_image(fbank: Tensor) -> Tensor:
    """FBANK [B, frames, mel] -> [B, 1, mel, frames], the layout CAV-MAE patchifies."""
    return fbank.unsqueeze(1).transpose(2, 3)

"""VIP-ANT's audio encoder: a CLIP image ViT re-used on FBANK "images".

VIP-ANT (Zhao et al., "Connecting the Dots between Audio and Text without Parallel Data through
Visual Knowledge Transfer", NAACL 2022, arXiv:2112.08995) initialises its audio encoder from CLIP's
ViT-B/32 image tower (zhaoyanpeng/vipant `cvap/module/val.py`, `ViTPreEncoder` and
`interp_clip_vp_embedding`):

- the FBANK [frames, mel] is a one-channel image with time as rows and mel bins as columns;
- patches keep the tower's 32x32 kernel but overlap, with stride 16 along time and 24 along
  frequency (`constants.PATCH_STRIDE`);
- the patch-embedding kernel is the tower's RGB kernel averaged over its three input channels
  (`cvap/module/val.py:236-247`);
- the class token's position is kept and the image's square grid of patch positions is resized to
  the audio grid by bilinear interpolation, align_corners=False (`cvap/module/val.py:534-553`);
- everything else (class embedding, pre/post layer norms, transformer layers, projection) starts as
  a copy of the image tower.

With VIP-ANT's 1000 frames x 128 mel bins that grid is 61 x 5.
"""
from __future__ import annotations

import copy
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from .constants import CLIP_FRAMES, MEL_BINS, PATCH_STRIDE

def grid_shape(n_frames: int, n_mels: int, kernel: int | tuple[int, int] = 32,
               stride: int | tuple[int, int] = PATCH_STRIDE) -> tuple[int, int]:
    """(time, frequency) patches an unpadded convolution yields over a [n_frames, n_mels] FBANK."""
    k_t, k_f = _pair(kernel)
    s_t, s_f = _pair(stride)
    if n_frames < k_t or n_mels < k_f:
        raise ValueError(f"a {n_frames}x{n_mels} FBANK is smaller than the {k_t}x{k_f} patch kernel")
    return (n_frames - k_t) // s_t + 1, (n_mels - k_f) // s_f + 1


def _pair(value: int | tuple[int, int]) -> tuple[int, int]:
    pair = (value, value) if isinstance(value, int) else tuple(value)
    if len(pair) != 2 or min(pair) < 1:
        raise ValueError(f"expected a positive int or a pair of them, got {value!r}")
    return int(pair[0]), int(pair[1])


def rgb_mean_kernel(weight: torch.Tensor) -> torch.Tensor:
    """[D, C, kh, kw] -> [D, 1, kh, kw], the mean over input channels."""
    return weight.mean(dim=1, keepdim=True)


def interpolate_positions(position_embedding: torch.Tensor, grid: tuple[int, int]) -> torch.Tensor:
    """[1 + g*g, D] image positions (class first) -> [1 + t*f, D] positions for a (t, f) grid."""
    patches = position_embedding[1:]
    side = round(patches.shape[0] ** 0.5)
    if side * side != patches.shape[0]:
        raise ValueError(f"{patches.shape[0]} patch positions do not form a square image grid")
    square = patches.T.reshape(1, -1, side, side)
    resized = F.interpolate(square, size=grid, mode="bilinear", align_corners=False)
    return torch.cat([position_embedding[:1], resized.reshape(patches.shape[1], -1).T], dim=0)


class AudioViT(nn.Module):
    """A CLIP vision transformer over FBANK [B, frames, mel]; build it with `audio_vit_from_clip_vision`.

    `forward` returns the class token after the post layer norm, passed through the projection if
    there is one ([B, projection_dim], else [B, hidden]); with `return_patch_tokens` it also returns
    the layer-normed patch tokens [B, t, f, hidden], as VIP-ANT's `CLIPAudioEncoderHead` does.
    """

    def __init__(self, patch_embedding: nn.Conv2d, class_embedding: torch.Tensor, position_embedding: torch.Tensor,
                 pre_layernorm: nn.Module, encoder: nn.Module, post_layernorm: nn.Module,
                 projection: nn.Module | None, n_frames: int, n_mels: int) -> None:
        super().__init__()
        self.patch_embedding = patch_embedding
        self.class_embedding = nn.Parameter(class_embedding)
        self.position_embedding = nn.Parameter(position_embedding)
        self.pre_layernorm = pre_layernorm
        self.encoder = encoder
        self.post_layernorm = post_layernorm
        self.projection = projection
        self.n_frames, self.n_mels = n_frames, n_mels
        self.kernel = tuple(patch_embedding.kernel_size)
        self.stride = tuple(patch_embedding.stride)
        self.grid = grid_shape(n_frames, n_mels, self.kernel, self.stride)
        if position_embedding.shape[0] != 1 + self.grid[0] * self.grid[1]:
            raise ValueError(f"{position_embedding.shape[0]} positions for a {self.grid} grid plus the class token")

    @property
    def hidden_size(self) -> int:
        return self.class_embedding.shape[0]

    @property
    def output_dim(self) -> int:
        return self.projection.out_features if self.projection is not None else self.hidden_size

    def embed(self, fbank: torch.Tensor) -> torch.Tensor:
        """FBANK [B, frames, mel] -> token embeddings [B, 1 + t*f, D] (class first, time-major patches)."""
        if fbank.dim() != 3 or tuple(fbank.shape[1:]) != (self.n_frames, self.n_mels):
            raise ValueError(f"expected FBANK [B, {self.n_frames}, {self.n_mels}], got {tuple(fbank.shape)}; "
                             "see avtbench.audio.fbank.pad_or_crop")
        weight = self.patch_embedding.weight
        patches = self.patch_embedding(fbank.to(weight.dtype).unsqueeze(1)).flatten(2).transpose(1, 2)
        cls = self.class_embedding.expand(patches.shape[0], 1, -1)
        return torch.cat([cls, patches], dim=1) + self.position_embedding

    def forward(self, fbank: torch.Tensor,
                return_patch_tokens: bool = False) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        hidden = self.encoder(inputs_embeds=self.pre_layernorm(self.embed(fbank)))[0]
        pooled = self.post_layernorm(hidden[:, 0])
        embedding = self.projection(pooled) if self.projection is not None else pooled
        if not return_patch_tokens:
            return embedding
        tokens = self.post_layernorm(hidden[:, 1:]).reshape(hidden.shape[0], *self.grid, -1)
        return embedding, tokens


def audio_vit_from_clip_vision(vision_model: nn.Module, n_frames: int = CLIP_FRAMES, n_mels: int = MEL_BINS,
                               stride: int | tuple[int, int] = PATCH_STRIDE,
                               projection: nn.Module | None = None) -> AudioViT:
    """An `AudioViT` whose weights are copies of a transformers CLIP image tower's.

    `vision_model` may be a `CLIPVisionModel`, `CLIPVisionModelWithProjection` or `CLIPModel` (or,
    in transformers 4.x, the inner `CLIPVisionTransformer`). The kernel is the tower's patch size
    (32x32 for ViT-B/32). `projection` defaults to the model's `visual_projection` when it has one;
    pass an `nn.Linear` to use another. The image tower itself is left untouched.
    """
    tower = _vision_tower(vision_model)
    if projection is None:
        projection = getattr(vision_model, "visual_projection", None)
    embeddings = tower.embeddings
    image_conv = embeddings.patch_embedding
    grid = grid_shape(n_frames, n_mels, tuple(image_conv.kernel_size), stride)
    with torch.no_grad():
        patch_embedding = _one_channel_conv(image_conv, _pair(stride))
        positions = interpolate_positions(embeddings.position_embedding.weight.detach(), grid)
    return AudioViT(
        patch_embedding=patch_embedding,
        class_embedding=embeddings.class_embedding.detach().clone(),
        position_embedding=positions,
        pre_layernorm=copy.deepcopy(tower.pre_layrnorm),
        encoder=copy.deepcopy(tower.encoder),
        post_layernorm=copy.deepcopy(tower.post_layernorm),
        projection=copy.deepcopy(projection) if projection is not None else None,
        n_frames=n_frames,
        n_mels=n_mels,
    )


def _vision_tower(model: nn.Module) -> Any:
    """The module holding `embeddings`, `pre_layrnorm`, `encoder` and `post_layernorm`; where that is
    depends on the wrapper and on the transformers major version."""
    module = model
    while not (hasattr(module, "embeddings") and hasattr(module, "encoder")):
        inner = getattr(module, "vision_model", None)
        if inner is None:
            raise TypeError(f"{type(model).__name__} holds no CLIP vision tower")
        module = inner
    return module


def _one_channel_conv(image_conv: nn.Conv2d, stride: tuple[int, int]) -> nn.Conv2d:
    conv = nn.Conv2d(1, image_conv.out_channels, kernel_size=image_conv.kernel_size, stride=stride,
                     bias=image_conv.bias is not None, device=image_conv.weight.device, dtype=image_conv.weight.dtype)
    conv.weight.copy_(rgb_mean_kernel(image_conv.weight))
    if image_conv.bias is not None:
        conv.bias.copy_(image_conv.bias)
    return conv

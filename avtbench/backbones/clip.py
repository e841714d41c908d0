"""CLIP backbones: `load_clip` (a hub id, a local folder or `synth://clip`) and the recipe of the
synthetic one, a tiny `CLIPModel` (ViT image tower with 32x32 patches, word-level text tower)
trained by `avtbench.backbones.synthetic` on the image-caption pairs the caller supplies."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Iterable

import numpy as np
from torch import Tensor, nn

from avtbench.backbones.preprocess import ImagePreprocess
from avtbench.backbones.synthetic import OtherTower, TrainPairs, TwoTowerRecipe, load_two_tower, text_tower

CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)
"""Pixel statistics of OpenAI CLIP (openai/CLIP `clip/clip.py`, `_transform`), also `CLIPImageProcessor`'s defaults."""


@dataclass(frozen=True)
class SynthClipConfig(TwoTowerRecipe):
    """A tiny CLIP. patch_size 32 is ViT-B/32's, so that VIP-ANT's 32x32 audio kernels carry over.
    image_size 128 upsamples the synthetic world's 32x32 frames to a 4x4 grid of patches that each
    cover 8x8 frame pixels: on the synthetic corpus (1000 clips, 20 epochs) this doubled the
    cross-clip class agreement of nearest frame embeddings over a 64-pixel input (2x2 grid), from
    5 % to 11 % (chance 2 %). Widths are small enough to train on ~1000 pairs in well under a
    minute on a CPU. max_text_length: token budget (CLIP uses 77; synthetic captions are shorter)."""

    kind: ClassVar[str] = "clip"
    tower: ClassVar[OtherTower] = OtherTower(model="vision_model", projection="visual_projection", inputs="pixel_values",
                                             scales=("logit_scale", "logit_scale"))

    image_size: int = 128
    patch_size: int = 32
    vision_hidden: int = 64
    vision_layers: int = 2
    vision_heads: int = 2

    def processor(self) -> Any:
        from transformers import CLIPImageProcessor

        return CLIPImageProcessor(size={"shortest_edge": self.image_size},
                                  crop_size={"height": self.image_size, "width": self.image_size},
                                  image_mean=list(CLIP_MEAN), image_std=list(CLIP_STD))

    def features(self, processor: Any, inputs: np.ndarray) -> Tensor:
        return ImagePreprocess(processor)(inputs)

    def build(self, tokenizer: Any) -> nn.Module:
        from transformers import CLIPConfig, CLIPModel

        text = text_tower(tokenizer, self.text_hidden, self.text_layers, self.text_heads, self.max_text_length)
        vision = dict(hidden_size=self.vision_hidden, intermediate_size=2 * self.vision_hidden,
                      num_hidden_layers=self.vision_layers, num_attention_heads=self.vision_heads,
                      image_size=self.image_size, patch_size=self.patch_size)
        return CLIPModel(CLIPConfig(text_config=text, vision_config=vision, projection_dim=self.projection_dim))


def load_clip(name_or_path: str, cache_dir: Path | None, train_pairs: TrainPairs | None = None,
              fingerprint: str | None = None, config: SynthClipConfig | None = None,
              vocabulary: Iterable[str] = (), setting: str = "<method>.clip") -> tuple[Any, Any, ImagePreprocess]:
    """(CLIPModel, tokenizer, image preprocessing), frozen, for a hub id, a local folder or `synth://clip`.

    `cache_dir` is the artifact cache the synthetic CLIP is kept in (None: the default cache).
    For `synth://clip`, `train_pairs` returns (frames uint8 [N, S, S, 3], N captions) and is only
    called when the backbone is not cached yet (and to fingerprint the data when no `fingerprint`
    is given); `vocabulary` adds the words of further texts to the tokenizer. `setting` names the
    option shown in the offline error (e.g. "vip_ant.clip").
    """
    model, tokenizer, processor = load_two_tower("clip", config or SynthClipConfig(), name_or_path, cache_dir,
                                                 train_pairs, fingerprint, vocabulary, setting)
    return model, tokenizer, ImagePreprocess(processor)

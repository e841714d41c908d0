"""The image captioner of the triplet step: any image-to-text checkpoint through transformers
(`AutoModelForImageTextToText` + `AutoProcessor`: BLIP, BLIP-2 as in the paper, VisionEncoderDecoder),
or `synth://captioner`.

`synth://captioner` is a tiny `BlipForConditionalGeneration` (ViT image tower, BERT-style text
decoder with cross-attention) over the synthetic backbones' word-level tokenizer, trained by
captioning loss (BLIP's shifted cross-entropy with label smoothing 0.1) on the frame-caption pairs
the caller supplies (`splits.py`: clips disjoint from those it captions and from the synthetic
CLAP's), saved with `save_pretrained` under `<cache>/backbones/synth-captioner-<key>/` and loaded
back through the same `from_pretrained` path a real checkpoint takes, so captions come from the
real `generate()`. Decoding is greedy.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from avtbench.api import UserError
from avtbench.backbones.loading import freeze, quiet_transformers
from avtbench.backbones.synthetic import cache_root, is_complete, publish_backbone
from avtbench.backbones.tokenizer import caption_words, vocabulary_tokenizer
from avtbench.data.blocks import fingerprint
from avtbench.hashing import SPACED, hash_json
from avtbench.toolkit import seeded_rng

from .config import SYNTH_CAPTIONER

SYNTH_CAPTIONER_VERSION = 1
"""Bump when the recipe changes, so that old cache folders are not reused."""
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)
"""`BlipImageProcessor`'s default statistics (OpenAI CLIP's)."""
EXAMPLE = "/path/to/blip2-opt-2.7b"

Pairs = Callable[[], tuple[np.ndarray, list[str]]]


@dataclass(frozen=True)
class SynthCaptionerConfig:
    """Sizes and schedule of `synth://captioner`. image_size 32 is the synthetic world's frame size
    (no resize); patch 8 gives a 4 x 4 grid of image tokens."""

    image_size: int = 32
    patch_size: int = 8
    hidden: int = 64
    layers: int = 2
    heads: int = 2
    max_text_length: int = 32
    epochs: int = 15
    batch_size: int = 64
    lr: float = 1e-3
    seed: int = 0

    def processor(self, tokenizer: Any) -> Any:
        with quiet_transformers():
            from transformers import BlipImageProcessor, BlipProcessor

            images = BlipImageProcessor(size={"height": self.image_size, "width": self.image_size},
                                        image_mean=list(CLIP_MEAN), image_std=list(CLIP_STD))
            return BlipProcessor(image_processor=images, tokenizer=tokenizer)

    def build(self, tokenizer: Any) -> Any:
        from transformers import BlipConfig, BlipForConditionalGeneration

        vision = dict(hidden_size=self.hidden, intermediate_size=2 * self.hidden, num_hidden_layers=self.layers,
                      num_attention_heads=self.heads, image_size=self.image_size, patch_size=self.patch_size,
                      projection_dim=self.hidden)
        text = dict(vocab_size=len(tokenizer), hidden_size=self.hidden, intermediate_size=2 * self.hidden,
                    num_hidden_layers=self.layers, num_attention_heads=self.heads, encoder_hidden_size=self.hidden,
                    max_position_embeddings=self.max_text_length, projection_dim=self.hidden,
                    bos_token_id=tokenizer.cls_token_id, eos_token_id=tokenizer.sep_token_id,
                    sep_token_id=tokenizer.sep_token_id, pad_token_id=tokenizer.pad_token_id)
        return BlipForConditionalGeneration(BlipConfig(text_config=text, vision_config=vision, projection_dim=self.hidden))


def pairs_fingerprint(frames: Any, captions: list[str]) -> str:
    """Hash of the frames' dtype, shape and bytes (read block by block) and the captions."""
    return fingerprint(frames, captions)


def synth_key(recipe: SynthCaptionerConfig, fingerprint: str, vocabulary: Iterable[str]) -> str:
    payload = {"config": dataclasses.asdict(recipe), "data": fingerprint, "words": caption_words(vocabulary),
               "v": SYNTH_CAPTIONER_VERSION}
    return hash_json(payload, form=SPACED)


def train_captioner(recipe: SynthCaptionerConfig, frames: np.ndarray, captions: list[str],
                    vocabulary: Iterable[str] = ()) -> tuple[Any, Any, list[float]]:
    """(model in eval mode, processor, mean loss per epoch), trained under `recipe.seed`, leaving the
    global RNG as it was."""
    if len(captions) < 2 or len(frames) != len(captions):
        raise UserError(f"synth://captioner needs at least 2 frame-caption pairs, got {len(frames)} frames and "
                        f"{len(captions)} captions; pass a pretrained captioner: --set lg_cav_mae.captioner={EXAMPLE}")
    tokenizer = vocabulary_tokenizer(captions, vocabulary, recipe.max_text_length)
    processor = recipe.processor(tokenizer)
    with quiet_transformers():
        pixels = processor(images=list(frames), return_tensors="pt")["pixel_values"]
    tokens = tokenizer(captions, padding=True, truncation=True, max_length=recipe.max_text_length, return_tensors="pt")
    labels = tokens["input_ids"].masked_fill(tokens["attention_mask"] == 0, -100)
    losses = []
    with seeded_rng(recipe.seed):
        model = recipe.build(tokenizer)
        optimizer = torch.optim.AdamW(model.parameters(), lr=recipe.lr, weight_decay=0.01)
        generator = torch.Generator().manual_seed(recipe.seed)
        model.train()
        for _ in range(recipe.epochs):
            order, total, steps = torch.randperm(len(captions), generator=generator), 0.0, 0
            for start in range(0, len(order), recipe.batch_size):
                index = order[start:start + recipe.batch_size]
                out = model(pixel_values=pixels[index], input_ids=tokens["input_ids"][index],
                            attention_mask=tokens["attention_mask"][index], labels=labels[index])
                optimizer.zero_grad()
                out.loss.backward()
                optimizer.step()
                total, steps = total + float(out.loss.detach()), steps + 1
            losses.append(total / max(steps, 1))
    return model.eval(), processor, losses


def ensure_synth_captioner(recipe: SynthCaptionerConfig, cache_dir: Path | None, pairs: Pairs, fingerprint: str,
                           vocabulary: Iterable[str] = ()) -> Path:
    """Folder of `synth://captioner` trained on `pairs()`, trained and saved on first use."""
    vocabulary = list(vocabulary)
    key = synth_key(recipe, fingerprint, vocabulary)
    target = cache_root(cache_dir) / "backbones" / f"synth-captioner-{key}"
    if is_complete(target):
        return target
    frames, captions = pairs()
    model, processor, losses = train_captioner(recipe, frames, captions, vocabulary)
    record = {"kind": "captioner", "fingerprint": fingerprint, "pairs": len(captions), "epoch_losses": losses,
              "config": dataclasses.asdict(recipe), "version": SYNTH_CAPTIONER_VERSION}
    return publish_backbone(target, model, processor.tokenizer, processor, record)


def load_captioner(name_or_path: str, cache_dir: Path | None = None, pairs: Pairs | None = None,
                   fingerprint: str | None = None, recipe: SynthCaptionerConfig | None = None,
                   vocabulary: Iterable[str] = ()) -> tuple[Any, Any]:
    """(model frozen in eval mode, processor) of a hub id, a local folder or `synth://captioner`."""
    if name_or_path == SYNTH_CAPTIONER:
        if pairs is None or fingerprint is None:
            raise ValueError("synth://captioner is trained on the caller's frames: pass pairs and their fingerprint")
        source = str(ensure_synth_captioner(recipe or SynthCaptionerConfig(), cache_dir, pairs, fingerprint, vocabulary))
    else:
        source = resolve_captioner(name_or_path)
    from transformers import AutoModelForImageTextToText, AutoProcessor

    try:
        with quiet_transformers():
            model = AutoModelForImageTextToText.from_pretrained(source)
            processor = AutoProcessor.from_pretrained(source)
    except (OSError, ValueError, KeyError) as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        if Path(source).exists():
            raise UserError(f"cannot load captioner {name_or_path} from {source} ({first[:200]}); pass an image-to-text "
                            f"folder written by save_pretrained, e.g. --set lg_cav_mae.captioner={EXAMPLE}") from None
        raise UserError(f"cannot load captioner {name_or_path!r} offline; download it elsewhere and pass its local "
                        f"folder, e.g. --set lg_cav_mae.captioner={EXAMPLE}, or use {SYNTH_CAPTIONER}") from None
    return freeze(model), processor


def resolve_captioner(name_or_path: str) -> str:
    """A local folder, or the hub id as given; refuses unknown synthetic names and missing local paths."""
    if name_or_path.startswith("synth://"):
        raise UserError(f"unknown synthetic captioner {name_or_path!r}; the synthetic one is {SYNTH_CAPTIONER}")
    local = Path(name_or_path).expanduser()
    if local.exists():
        return str(local)
    if name_or_path.startswith(("/", ".", "~")):
        raise UserError(f"lg_cav_mae.captioner: there is no folder {name_or_path}; pass a folder written by "
                        f"save_pretrained (e.g. --set lg_cav_mae.captioner={EXAMPLE}) or {SYNTH_CAPTIONER}")
    return name_or_path


@torch.no_grad()
def caption(model: Any, processor: Any, frames: np.ndarray, max_new_tokens: int, batch: int = 256,
            device: str = "cpu") -> list[str]:
    """Greedy captions of uint8 frames [N, S, S, 3] through the model's own `generate()`, decoded with
    the processor; a decoder-only model's echoed prompt (e.g. BLIP-2's image tokens) is cut off."""
    model = model.to(device)
    out: list[str] = []
    for start in range(0, len(frames), batch):
        with quiet_transformers():
            inputs = processor(images=list(frames[start:start + batch]), return_tensors="pt")
        inputs = {k: v.to(device) for k, v in inputs.items() if isinstance(v, torch.Tensor)}
        generated = model.generate(**inputs, max_new_tokens=max_new_tokens, do_sample=False, num_beams=1)
        prompt = inputs.get("input_ids")
        if prompt is not None and generated.shape[1] >= prompt.shape[1] and torch.equal(generated[:, :prompt.shape[1]], prompt):
            generated = generated[:, prompt.shape[1]:]
        out += [" ".join(text.split()) for text in processor.batch_decode(generated, skip_special_tokens=True)]
    return out

"""Train-and-cache a synthetic two-tower backbone (a tiny CLIP or CLAP) on the caller's pairs.

One trainer serves both: a `SynthRecipe` (`SynthClipConfig`, `SynthClapConfig`) says how to
build the transformers model, its processor and the non-text tower's embedding; everything else
is shared. The backbone is randomly initialised from the recipe's seed, trained contrastively
(symmetric InfoNCE, as CLIP and CLAP are) on the pairs `train_pairs()` returns, saved with
`save_pretrained` (model, tokenizer, processor) into `<cache>/backbones/synth-<kind>-<key>/`
through a temporary folder and a rename (`avtbench.atomic.publish_folder`), and then loaded back
through the very `from_pretrained` path a real checkpoint takes. The key hashes the recipe, the
extra vocabulary and a fingerprint of the training pairs, so backbones trained on different data
never share a folder. `avtbench.json` beside the weights records what the backbone was trained on.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Any, Callable, ClassVar, Iterable, Protocol

import numpy as np
from torch import Tensor, nn

from avtbench.atomic import publish_folder
from avtbench.backbones.contrastive import ContrastiveSchedule, caption_groups, fit_contrastive
from avtbench.backbones.loading import load_pretrained, quiet_transformers, resolve_source, save_pretrained, synth_kind
from avtbench.backbones.tokenizer import caption_words, vocabulary_tokenizer
from avtbench.hashing import SPACED_LISTS, hash_json
from avtbench.toolkit.rng import seeded_rng

SYNTH_VERSION = 1
"""Bump when the synthetic recipe changes, so that old cache folders are not reused."""
RECORD = "avtbench.json"

TrainPairs = Callable[[], tuple[np.ndarray, list[str]]]
"""Returns (inputs of the non-text tower [N, ...], N captions); called only when needed."""


@dataclasses.dataclass(frozen=True)
class OtherTower:
    """Where a transformers two-tower model keeps its tower that is not text (CLIP's vision tower,
    CLAP's audio tower), by attribute name: the trainer reaches it through these alone."""

    model: str
    """The tower, e.g. "vision_model"."""
    projection: str
    """Its projection into the joint space, e.g. "visual_projection"."""
    inputs: str
    """The keyword its inputs are passed as, e.g. "pixel_values"."""
    scales: tuple[str, str]
    """The log temperatures of the (other -> text, text -> other) directions."""

    def embed(self, model: nn.Module, features: Tensor) -> Tensor:
        """Projected embeddings of the tower [B, D]."""
        tower = getattr(model, self.model)
        return getattr(model, self.projection)(tower(**{self.inputs: features}).pooler_output)

    def temperatures(self, model: nn.Module) -> tuple[Tensor, Tensor]:
        return getattr(model, self.scales[0]), getattr(model, self.scales[1])


@dataclasses.dataclass(frozen=True)
class TwoTowerRecipe:
    """The settings every synthetic two-tower recipe has (CLIP's and CLAP's extend them): a word-level
    text tower `text_hidden` wide, the joint space's width, the caption budget and the schedule."""

    text_hidden: int = 64
    text_layers: int = 2
    text_heads: int = 2
    projection_dim: int = 64
    max_text_length: int = 32
    schedule: ContrastiveSchedule = dataclasses.field(default_factory=ContrastiveSchedule)


class SynthRecipe(Protocol):
    """What distinguishes one synthetic two-tower backbone from another."""

    kind: ClassVar[str]
    tower: ClassVar[OtherTower]
    max_text_length: int
    schedule: ContrastiveSchedule

    def processor(self) -> Any:
        """The transformers image processor or feature extractor saved with the model."""

    def features(self, processor: Any, inputs: np.ndarray) -> Tensor:
        """Raw inputs [N, ...] -> the non-text tower's model inputs [N, ...]."""

    def build(self, tokenizer: Any) -> nn.Module:
        """A freshly initialised transformers model (with `text_model` and `text_projection`, and `tower`)."""


def text_tower(tokenizer: Any, hidden: int, layers: int, heads: int, max_positions: int, **extra: Any) -> dict[str, Any]:
    """The text-tower config both synthetic backbones share: a small transformer over the word
    tokenizer, feed-forward twice its width, special tokens from the tokenizer; `extra` per model."""
    return dict(vocab_size=len(tokenizer), hidden_size=hidden, intermediate_size=2 * hidden, num_hidden_layers=layers,
                num_attention_heads=heads, max_position_embeddings=max_positions, pad_token_id=tokenizer.pad_token_id,
                bos_token_id=tokenizer.cls_token_id, eos_token_id=tokenizer.sep_token_id, **extra)


def data_fingerprint(inputs: np.ndarray, captions: list[str]) -> str:
    """Hash of training pairs: the inputs' dtype, shape and bytes and the captions in order."""
    array = np.ascontiguousarray(inputs)
    digest = hashlib.sha256(f"{array.dtype}|{array.shape}|".encode())
    digest.update(array.tobytes())
    digest.update("\n".join(captions).encode())
    return digest.hexdigest()[:16]


def synth_key(kind: str, recipe: Any, fingerprint: str, vocabulary: Iterable[str] = ()) -> str:
    """Cache key of a synthetic backbone: its settings, what it was trained on, its extra words."""
    payload = {"kind": kind, "config": dataclasses.asdict(recipe), "data": fingerprint,
               "words": caption_words(vocabulary), "v": SYNTH_VERSION}
    return hash_json(payload, form=SPACED_LISTS)


def synth_folder(cache_dir: Path, kind: str, key: str) -> Path:
    return Path(cache_dir) / "backbones" / f"synth-{kind}-{key}"


def cache_root(cache_dir: Path | None) -> Path:
    """`cache_dir`, or the default artifact cache when None."""
    if cache_dir is not None:
        return Path(cache_dir)
    from avtbench.cache import default_cache_dir

    return default_cache_dir()


def publish_backbone(target: Path, model: Any, tokenizer: Any, processor: Any, record: dict[str, Any]) -> Path:
    """Save a trained backbone (and its record) into `target` atomically; a concurrent copy wins."""

    def write(folder: Path) -> None:
        save_pretrained(folder, model, tokenizer, processor)
        (folder / RECORD).write_text(json.dumps(record, indent=1, default=list) + "\n")

    return publish_folder(target, write, complete="config.json")


def is_complete(folder: Path) -> bool:
    return (folder / "config.json").is_file() and (folder / RECORD).is_file()


def ensure_synth(recipe: SynthRecipe, cache_dir: Path | None, train_pairs: TrainPairs, fingerprint: str | None = None,
                 vocabulary: Iterable[str] = ()) -> Path:
    """Folder of the synthetic backbone `recipe` trained on `train_pairs()`, trained and saved on first use.

    With a `fingerprint` of the pairs (`data_fingerprint`), a cached backbone is found without
    calling `train_pairs`. `vocabulary` adds the words of further texts to the tokenizer."""
    vocabulary = list(vocabulary)
    pairs = None
    if fingerprint is None:
        pairs = checked_pairs(train_pairs())
        fingerprint = data_fingerprint(*pairs)
    target = synth_folder(cache_root(cache_dir), recipe.kind, synth_key(recipe.kind, recipe, fingerprint, vocabulary))
    if is_complete(target):
        return target
    inputs, captions = pairs or checked_pairs(train_pairs())
    model, tokenizer, processor, losses = train_synth(recipe, inputs, captions, vocabulary)
    record = {"kind": recipe.kind, "fingerprint": fingerprint, "pairs": len(captions), "epoch_losses": losses,
              "config": dataclasses.asdict(recipe), "version": SYNTH_VERSION}
    return publish_backbone(target, model, tokenizer, processor, record)


def checked_pairs(pairs: tuple[np.ndarray, list[str]]) -> tuple[np.ndarray, list[str]]:
    inputs, captions = pairs
    captions = [str(c) for c in captions]
    if len(inputs) != len(captions) or len(captions) < 2:
        raise ValueError(f"need at least 2 training pairs with one caption each, got {len(inputs)} inputs "
                         f"and {len(captions)} captions")
    return np.asarray(inputs), captions


def train_synth(recipe: SynthRecipe, inputs: np.ndarray, captions: list[str],
                vocabulary: Iterable[str] = ()) -> tuple[nn.Module, Any, Any, list[float]]:
    """(model in eval mode, tokenizer, processor, mean loss per epoch) of `recipe` trained on the pairs.

    The tokenizer holds BASE_WORDS and the words of `captions` and `vocabulary`; the model is
    initialised and trained under `recipe.schedule.seed`, leaving the global RNG as it was."""
    tokenizer = vocabulary_tokenizer(captions, vocabulary, recipe.max_text_length)
    with quiet_transformers():
        processor = recipe.processor()  # without torchvision, image processors log a fallback
        features = recipe.features(processor, inputs)
    encoded = tokenizer(captions, padding=True, truncation=True, return_tensors="pt")
    tokens = {k: encoded[k] for k in ("input_ids", "attention_mask")}
    with seeded_rng(recipe.schedule.seed):
        model = recipe.build(tokenizer)

        def embed(index: Tensor) -> tuple[Tensor, Tensor]:
            other = recipe.tower.embed(model, features[index])
            text = model.text_projection(model.text_model(**{k: v[index] for k, v in tokens.items()}).pooler_output)
            return other, text

        losses = fit_contrastive(model, embed, caption_groups(captions), recipe.tower.temperatures(model), recipe.schedule)
    return model.eval(), tokenizer, processor, losses


def load_two_tower(kind: str, recipe: SynthRecipe, name_or_path: str, cache_dir: Path | None,
                   train_pairs: TrainPairs | None, fingerprint: str | None, vocabulary: Iterable[str],
                   setting: str) -> tuple[Any, Any, Any]:
    """(model, tokenizer, processor) of `name_or_path`: the synthetic `recipe` for `synth://<kind>`
    (trained on `train_pairs` when not cached), else a local folder or a hub id."""
    if synth_kind(name_or_path) == kind:
        if train_pairs is None:
            raise ValueError(f"{name_or_path} is trained on the caller's data: pass train_pairs")
        source = str(ensure_synth(recipe, cache_dir, train_pairs, fingerprint, vocabulary))
    else:
        source = resolve_source(kind, name_or_path)
    return load_pretrained(kind, source, name_or_path, setting)

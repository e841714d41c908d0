"""Loading the two frozen backbones of LG-CAV-MAE (CLAP, captioner) for a corpus, with a record of
what each is: a synthetic one by its cache key and what it learnt from, a real one by its name and,
for a local folder, a fingerprint of its files (so the triplet cache notices a changed folder).
A synthetic backbone's pairs are a lazy view of the corpus, hashed block by block; they are read
whole only to train it, once, before it is cached."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from avtbench.api import Clips, UserError
from avtbench.backbones.clap import load_clap
from avtbench.backbones.loading import SYNTH_CLAP
from avtbench.backbones.synthetic import synth_key as two_tower_key
from avtbench.data.blocks import fingerprint as stream_fingerprint
from avtbench.hashing import SPACED, hash_json
from avtbench.toolkit import synthetic_clap_recipe

from . import captioner as cap
from . import splits
from .config import SAMPLE_RATE, SYNTH_CAPTIONER, LGCavMaeConfig
from .text import FrozenClap


def synth_captioner_recipe(config: LGCavMaeConfig, frame_size: int) -> cap.SynthCaptionerConfig:
    hidden = config.synth_captioner_hidden
    patch = max(1, frame_size // 4)
    return cap.SynthCaptionerConfig(image_size=frame_size, patch_size=patch, hidden=hidden, layers=config.synth_captioner_layers,
                                    heads=4 if hidden % 4 == 0 and hidden >= 128 else 2,
                                    epochs=config.synth_captioner_epochs, seed=config.synth_captioner_seed)


def folder_identity(name_or_path: str) -> str:
    """The name itself for a hub id; for a local folder its path with every file's name, size and mtime."""
    local = Path(name_or_path).expanduser()
    if not local.exists():
        return name_or_path
    files = sorted((str(p.relative_to(local)), p.stat().st_size, p.stat().st_mtime_ns) for p in local.rglob("*") if p.is_file())
    digest = hash_json([str(local.resolve()), files], form=SPACED)
    return f"{local.resolve()}@{digest}"


def load_clap_for(config: LGCavMaeConfig, corpus: Clips, rows: splits.Rows, cache_dir: Path | None,
                  device: str) -> tuple[FrozenClap, dict[str, Any]]:
    words = splits.vocabulary(corpus)
    if config.clap == SYNTH_CLAP:
        pairs = splits.clap_pairs(corpus, rows.clap)
        recipe, fingerprint = synthetic_clap_recipe(config), stream_fingerprint(*pairs)
        model, tokenizer, preprocess = load_clap(config.clap, cache_dir, train_pairs=lambda: (np.asarray(pairs[0]), pairs[1]),
                                                 fingerprint=fingerprint,
                                                 config=recipe, vocabulary=words, setting="lg_cav_mae.clap",
                                                 input_rate=SAMPLE_RATE)
        record = {"name": config.clap, "key": two_tower_key("clap", recipe, fingerprint, words),
                  "trained_on": f"{len(pairs[1])} captions of {len(rows.clap)} second-half corpus clips with each "
                                "clip's middle second of audio"}
    else:
        model, tokenizer, preprocess = load_clap(config.clap, cache_dir, setting="lg_cav_mae.clap", input_rate=SAMPLE_RATE)
        record = {"name": config.clap, "key": folder_identity(config.clap)}
    clap = FrozenClap(model, tokenizer, preprocess, device)
    record["dim"] = clap.dim
    return clap, record


def captioner_identity(config: LGCavMaeConfig, corpus: Clips, rows: splits.Rows) -> tuple[dict[str, Any], Any]:
    """(record, loader): what the captioner is, known without training or loading it, and a function
    that loads it (training `synth://captioner` first when it is not cached)."""
    if config.captioner != SYNTH_CAPTIONER:
        cap.resolve_captioner(config.captioner)
        return ({"name": config.captioner, "key": folder_identity(config.captioner)},
                lambda cache_dir: cap.load_captioner(config.captioner, cache_dir))
    frames, captions = splits.captioner_pairs(corpus, rows.captioner)
    size = int(frames.shape[1])
    if frames.shape[1] != frames.shape[2]:
        raise UserError(f"synth://captioner takes square frames, got {frames.shape[1]}x{frames.shape[2]}")
    recipe = synth_captioner_recipe(config, size)
    fingerprint = cap.pairs_fingerprint(frames, captions)
    record = {"name": config.captioner, "key": cap.synth_key(recipe, fingerprint, ()),
              "trained_on": f"{len(captions)} frames of {len(rows.captioner)} first-half corpus clips, each with one "
                            "of its clip's captions"}
    return record, lambda cache_dir: cap.load_captioner(config.captioner, cache_dir, lambda: (np.asarray(frames), captions),
                                                        fingerprint, recipe)

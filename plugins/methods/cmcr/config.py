"""Settings of `cmcr` (C-MCR: Wang, Zhao, Cheng, Huang, Liu, Tang, Li, Wang, Yin, Zhang, Zhao,
"Connecting Multi-modal Contrastive Representations", NeurIPS 2023, arXiv:2305.14381; inference
code MCR-PEFT/C-MCR).

Where each value comes from:
- the projector (Linear(d, 2d) -> BatchNorm1d -> ReLU -> Linear(2d, d) -> BatchNorm1d, no
  residual; `expansion` 2.0) is the official `cmcr/cmcr_projector.py` (`MLP(res_expansion=2.0)`);
- `tau_mem` 0.01, `sigma` 0.025, `tau` 0.01 and `intra_weight` 0.1 are a public third-party
  re-implementation's values (HanCLIP, a Korean-text variant of C-MCR), UNVERIFIED as the paper's:
  the C-MCR paper's method and implementation sections could not be read here
  (../shared/papers/002_* holds only its abstract, and the official repository has no training
  code);
- the optimiser (Adam), `lr`, `weight_decay`, `batch_size`, `epochs`, and the sizes of the
  synthetic backbones are ours, sized for 2 CPU cores.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from avtbench.config import setting

SAMPLE_RATE = 16000
"""Raw-level audio rate of `Clips` (avtbench.api): one segment is SAMPLE_RATE samples."""


@dataclass
class CMCRConfig:
    """Configuration of C-MCR on the benchmark's per-segment clips.

    clip, clap: the frozen trunks: a Hugging Face id, a local folder, or "synth://clip" /
        "synth://clap" (tiny models of the same transformers classes trained on disjoint halves of
        the corpus: CLIP on each caption of the first half's clips with the clip's middle frame,
        CLAP on each caption of the second half's clips with the clip's middle second of audio).
        C-MCR uses `openai/clip-vit-base-patch32` and LAION-CLAP's fusion checkpoint (through the
        `laion_clap` package; `laion/clap-htsat-fused` is its transformers port, unverified to be
        the very same weights); offline, pass downloaded folders: --set cmcr.clip=/path/to/clip.
    heads: "" (default) trains the projectors; a path to a .pt file of C-MCR's released projector
        weights (`checkpoints/clap_clip.pt`) loads them instead and skips training (see
        `projector.load_official_heads`).
    connect: false skips the projectors altogether (identity heads): the unconnected baseline, the
        frozen CLIP image/text and CLAP audio embeddings compared as they are (needs equal widths).
    semantic_enhancement: memory retrieval on (default) or off. On, each CLIP text embedding
        retrieves a soft image embedding from the image memory (softmax over cosine similarities at
        `tau_mem`) and each CLAP text embedding a soft audio embedding from the audio memory; the
        retrieved pair adds an inter-MCR InfoNCE term and the intra-MCR terms. Off, only the text
        pair is aligned (no memory, no intra term; our reading of the ablation).
    noise, sigma: Gaussian noise of std `sigma` added to every embedding before projection, then
        re-normalised (noise=false or sigma=0 turns it off).
    tau: temperature of the symmetric InfoNCE of the inter-MCR alignment (fixed, not learned).
    intra_weight: weight lambda of the intra-MCR alignment (0 turns it off).
    dim: output width of the projectors; 0 (default, ours) is CLIP's embedding width.
    expansion: hidden width of each projector relative to its input (official `res_expansion` 2.0).
    init: "default" (torch's initialisation), or the official `init_weights` modes "eye"
        (`nn.init.eye_` on every weight matrix) and "xav" (xavier uniform); which one the authors
        trained with is not known.
    text_side: which text tower `encode("text", ...)` uses: "clip" (Head_B over CLIP text, as the
        official `get_text_embedding`) or "clap" (Head_A over CLAP text).
    epochs, batch_size, lr, weight_decay: head training on the cached corpus embeddings, Adam
        (ours; C-MCR's are not known). epochs 0 keeps the initial heads.
    max_steps: stop head training after this many optimiser steps in all (0: run every epoch; ours,
        for benchmarks).
    synth_clip_hidden, synth_clip_layers, synth_clip_epochs, synth_clip_image_size, synth_clip_seed:
        the `synth://clip` recipe (ignored for real checkpoints; `avtbench.toolkit.synthetic_clip_recipe`,
        vip_ant's too); the defaults are vip_ant's, so both methods share one cached synthetic CLIP.
    synth_clap_hidden, synth_clap_layers, synth_clap_epochs, synth_clap_seed: the `synth://clap`
        recipe: text width and embedding width `hidden`, audio patch width hidden / 2, text layers.
    encode_batch: segments per trunk forward pass when encoding.
    preset: "default" or "tiny" (a few-second smoke size that `avtbench check` uses, not for results).
    """

    clip: str = "synth://clip"
    clap: str = "synth://clap"
    heads: str = ""
    connect: bool = True
    semantic_enhancement: bool = True
    noise: bool = True
    tau_mem: float = setting(0.01, above=0, high=100)
    sigma: float = setting(0.025, low=0, high=10)
    tau: float = setting(0.01, above=0, high=100)
    intra_weight: float = setting(0.1, low=0)
    dim: int = setting(0, low=0)
    expansion: float = setting(2.0, above=0, high=64)
    init: Literal["default", "eye", "xav"] = "default"
    text_side: Literal["clip", "clap"] = "clip"
    epochs: int = setting(30, low=0)
    batch_size: int = setting(256, low=2)
    lr: float = setting(1e-3, above=0)
    weight_decay: float = setting(0.0, low=0)
    max_steps: int = setting(0, low=0)
    synth_clip_hidden: int = setting(64, low=2)
    synth_clip_layers: int = setting(2, low=1)
    synth_clip_epochs: int = setting(20, low=1)
    synth_clip_image_size: int = setting(128, low=32)
    synth_clip_seed: int = setting(0, low=0, high=2**32 - 1)
    synth_clap_hidden: int = setting(64, low=4)
    synth_clap_layers: int = setting(2, low=1)
    synth_clap_epochs: int = setting(20, low=1)
    synth_clap_seed: int = setting(0, low=0, high=2**32 - 1)
    encode_batch: int = setting(512, low=1)
    preset: Literal["default", "tiny"] = "default"

    PRESETS: ClassVar[dict[str, dict[str, Any]]] = {
        "tiny": {"synth_clip_hidden": 16, "synth_clip_layers": 1, "synth_clip_epochs": 2, "synth_clip_image_size": 64,
                 "synth_clap_hidden": 16, "synth_clap_layers": 1, "synth_clap_epochs": 2,
                 "epochs": 3, "batch_size": 16},
    }

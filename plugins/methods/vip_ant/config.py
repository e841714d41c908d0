"""Settings of `vip_ant` (VIP-ANT: Zhao, Hessel, Yu, Lu, Zellers, Choi, "Connecting the Dots
between Audio and Text without Parallel Data through Visual Knowledge Transfer", NAACL 2022;
reference code zhaoyanpeng/vipant).

Defaults are sized so that a cold pretraining on the default synthetic corpus (~2000 clips x 10
one-second segments) stays within about two minutes on 2 CPU cores, synthetic CLIP included; the
`paper` preset restores the reference schedule and clip length.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from avtbench.config import setting

from .constants import CLIP_FRAMES, FBANK_MEAN, FBANK_STD, MEL_BINS, PATCH_STRIDE

SAMPLE_RATE = 16000
"""Raw-level audio rate of `Clips` (avtbench.api)."""
FRAMES_PER_SECOND = 100
"""FBANK frames per second at the 10 ms shift; VIP-ANT's 10 s clips give its 1000 frames."""


@dataclass
class VipAntConfig:
    """Configuration of VIP-ANT on the benchmark's per-segment clips.

    clip: the CLIP backbone: a Hugging Face id, a local folder, or "synth://clip" (a tiny CLIP
        trained on image-caption pairs from the corpus's first half, see `synth_clip_pairs` and
        `pairs.py`). VIP-ANT uses OpenAI's ViT-B/32 (`clip_model_name: ViT-B32` in
        `configs/running/bimodal.yaml`); offline, pass a downloaded copy:
        --set vip_ant.clip=/path/to/clip-vit-base-patch32.
    synth_clip_pairs: what `synth://clip` is trained on (ignored for real checkpoints):
        "captions" (default): each caption of a clip paired with the clip's middle frame, the only
        supervision a real CLIP had (web images with their captions); no labels are read.
        "latent_events": each segment's frame paired with a caption naming exactly the events
        visible in it, built from the corpus's latent per-segment event labels
        (`labels["events"]`, which only the synthetic corpus has) and the classes' descriptions.
        A better-aligned CLIP than any real one, so results with it are not VIP-ANT's standing.
    stride: (time, frequency) stride of the 32x32 audio patches (16, 24), `bash/run_bimodal_va.sh`.
    num_mel_bins: FBANK mel bins (128), `configs/running/audio/default.yaml`.
    fbank_mean, fbank_std: FBANK normalization statistics, (x - mean) / std; VIP-ANT's AudioSet
        values -4.93839311 and 5.75751113 (`bash/run_bimodal_va.sh`, see `constants.py`). Log-mel
        energies lie within about [-16, 25] (Kaldi floors at log(FLT_EPSILON)), so the mean is
        bounded by +-100.
    window_seconds: audio context of one segment embedding. 1.0 (default) encodes each one-second
        segment on its own; VIP-ANT encodes 10 s clips (the `paper` preset). A window longer than
        a segment is centred on it and shifted to stay inside the clip.
    segment_frames: FBANK frames the audio ViT takes; 0 means 100 per second of window (1 s gives
        Kaldi's 98 frames zero-padded to 100; 10 s gives VIP-ANT's `max_len` 1000).
    fbank_backend: "batched" (torch, all segments at once, same recipe as `avtbench.audio.fbank`)
        or "reference" (`avtbench.audio.fbank.fbank` one segment at a time; slow).
    epochs, batch_size, lr, weight_decay, grad_clip: audio-image pretraining schedule. VIP-ANT:
        Adam lr 5e-4, weight decay 1e-6, gradient-norm clip 0.5 (`configs/optimizer/standard.yaml`),
        batch 432 (`configs/running/bimodal.yaml`); the default batch and epochs are scaled for CPU.
        epochs 0 skips the audio-image stage (the audio ViT keeps its CLIP initialisation); grad_clip
        0 turns clipping off.
    max_steps: stop after this many optimiser steps in all, the curation stage's included (0: run
        every epoch; ours, for benchmarks).
    logit_scale_init: initial log inverse temperature, log(1/0.07) as CLIP and VIP-ANT's `CELossHead`
        (`cvap/module/decoder/loss_head.py`); learned.
    logit_scale_max: None (default) leaves the learned scale unclamped, as the reference code does
        (`scale_max: null` in `configs/model/loss/ce*.yaml`); a number clamps exp(logit_scale) at it
        in the loss, as the reference's `CELossHead` does when `scale_max` is set. (CLIP itself keeps
        the scale within 100; the version before 4 clamped the parameter to [1, 100] after each step.)
    curation: optional audio-text fine-tuning after the audio-image stage. "none"; "retrieved":
        each segment's audio is paired with the caption the frozen CLIP retrieves for its frame
        from the caption pool (every caption of the corpus); "random": a random pool caption (the
        control). The audio-text InfoNCE is added to the audio-image one.
    curation_epochs, curation_top_k, curation_weight: length of that stage (0 skips it), how many
        retrieved captions a segment draws from (uniformly, each epoch), and the weight of the
        audio-text term.
    synth_clip_hidden, synth_clip_layers, synth_clip_epochs, synth_clip_image_size, synth_clip_seed:
        size, training length, input resolution and seed of the `synth://clip` backbone (ignored
        for real checkpoints; see `avtbench.backbones.clip.SynthClipConfig`). The CLIP seed is
        fixed rather than the method seed: VIP-ANT starts every run from the same pretrained CLIP,
        and the cached backbone is then trained once for all method seeds.
    encode_batch: segments per audio-ViT forward pass when encoding.
    checkpoint: a released VIP-ANT checkpoint (`00071478.pth` and the others of the reference's README;
        see `released.py`) whose audio encoder is evaluated as it is, without pretraining: with
        `preset=paper` (its audio geometry) and `clip` set to the CLIP it was trained against (OpenAI's
        ViT-B/32, e.g. a folder of openai/clip-vit-base-patch32). Empty: pretrain.
    preset: "default", "paper" or "tiny" (see PRESETS); applied by the core before the other settings.
        "tiny" is a few-second smoke size (what `avtbench check` uses), not a setting for results.
    """

    clip: str = "synth://clip"
    synth_clip_pairs: Literal["captions", "latent_events"] = "captions"
    stride: tuple[int, int] = setting(PATCH_STRIDE, low=1)
    num_mel_bins: int = setting(MEL_BINS, low=32)
    fbank_mean: float = setting(FBANK_MEAN, low=-100, high=100)
    fbank_std: float = setting(FBANK_STD, above=0)
    window_seconds: float = setting(1.0, above=0)
    segment_frames: int = setting(0, low=0)
    fbank_backend: Literal["batched", "reference"] = "batched"
    epochs: int = setting(3, low=0)
    batch_size: int = setting(256, low=2)
    lr: float = setting(5e-4, above=0)
    weight_decay: float = setting(1e-6, low=0)
    grad_clip: float = setting(0.5, low=0)
    max_steps: int = setting(0, low=0)
    logit_scale_init: float = setting(math.log(1 / 0.07), low=0)
    logit_scale_max: float | None = setting(None, low=1)
    curation: Literal["none", "retrieved", "random"] = "none"
    curation_epochs: int = setting(1, low=0)
    curation_top_k: int = setting(1, low=1)
    curation_weight: float = setting(1.0, low=0)
    synth_clip_hidden: int = setting(64, low=2)
    synth_clip_layers: int = setting(2, low=1)
    synth_clip_epochs: int = setting(20, low=1)
    synth_clip_image_size: int = setting(128, low=32)
    synth_clip_seed: int = setting(0, low=0, high=2**32 - 1)
    encode_batch: int = setting(512, low=1)
    checkpoint: str = ""
    preset: Literal["default", "paper", "tiny"] = "default"

    PRESETS: ClassVar[dict[str, dict[str, Any]]] = {
        "tiny": {"synth_clip_hidden": 16, "synth_clip_layers": 1, "synth_clip_epochs": 2, "synth_clip_image_size": 64,
                 "epochs": 2, "batch_size": 8, "lr": 2e-3},
        "paper": {
            "stride": PATCH_STRIDE,
            "num_mel_bins": MEL_BINS,
            "window_seconds": CLIP_FRAMES / FRAMES_PER_SECOND,
            "segment_frames": CLIP_FRAMES,
            "batch_size": 432,
            "lr": 5e-4,
            "weight_decay": 1e-6,
            "grad_clip": 0.5,
        },
    }

    @property
    def frames(self) -> int:
        """FBANK frames per segment window as the audio ViT sees them."""
        return self.segment_frames or round(FRAMES_PER_SECOND * self.window_seconds)

    @property
    def window_samples(self) -> int:
        return round(SAMPLE_RATE * self.window_seconds)

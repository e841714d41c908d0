"""Settings of `vip_ant` (VIP-ANT: Zhao, Hessel, Yu, Lu, Zellers, Choi, "Connecting the Dots
between Audio and Text without Parallel Data through Visual Knowledge Transfer", NAACL 2022;
reference code zhaoyanpeng/vipant).

Defaults are sized so that a cold pretraining on the default synthetic corpus (~2000 clips x 10
one-second segments) stays within about two minutes on 2 CPU cores, synthetic CLIP included; the
`paper` preset restores the reference's clip length, batch, LARS optimiser and schedule, and frame
resize (below, each with where the reference has it; "ours" where it has nothing to say).
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
        `pairs.py`). VIP-ANT uses OpenAI's ViT-B/32 (`clip_model_name: ViT-B32`,
        `configs/running/bimodal.yaml:2`); offline, pass a downloaded copy:
        --set vip_ant.clip=/path/to/clip-vit-base-patch32.
    synth_clip_pairs: what `synth://clip` is trained on (ignored for real checkpoints):
        "captions" (default): each caption of a clip paired with the clip's middle frame, the only
        supervision a real CLIP had (web images with their captions); no labels are read.
        "latent_events": each segment's frame paired with a caption naming exactly the events
        visible in it, built from the corpus's latent per-segment event labels
        (`labels["events"]`, which only the synthetic corpus has) and the classes' descriptions.
        A better-aligned CLIP than any real one, so results with it are not VIP-ANT's standing.
    stride: (time, frequency) stride of the 32x32 audio patches (16, 24), `bash/run_bimodal_va.sh:25`.
    num_mel_bins: FBANK mel bins (128), `configs/running/audio/default.yaml:12`.
    fbank_mean, fbank_std: FBANK normalization statistics, (x - mean) / std; VIP-ANT's AudioSet
        values -4.93839311 and 5.75751113 (`bash/run_bimodal_va.sh:26`, see `constants.py`). Log-mel
        energies lie within about [-16, 25] (Kaldi floors at log(FLT_EPSILON)), so the mean is
        bounded by +-100.
    window_seconds: audio context of one segment embedding. 1.0 (default) encodes each one-second
        segment on its own; VIP-ANT encodes 10 s clips (`max_len: 1000` frames,
        `configs/running/audio/default.yaml:2`; the `paper` preset). A window longer than
        a segment is centred on it and shifted to stay inside the clip.
    segment_frames: FBANK frames the audio ViT takes; 0 means 100 per second of window (1 s gives
        Kaldi's 98 frames zero-padded to 100; 10 s gives VIP-ANT's `max_len` 1000).
    fbank_backend: "batched" (torch, all segments at once, same recipe as `avtbench.audio.fbank`)
        or "reference" (`avtbench.audio.fbank.fbank` one segment at a time; slow).
    optimizer: "adam" (default; ours: Adam at `lr` with `weight_decay`) or "lars" (the `paper`
        preset; VIP-ANT's, `use_lars: True`, `configs/optimizer/standard.yaml:1`): LARS with weight
        decay `weight_decay` on weights only, rates `lars_lr_weights` x and `lars_lr_biases` x
        batch_size / 256 after a linear warm-up over `warmup_epochs` epochs, then a half cosine to a
        thousandth (see `lars.py`). With curation, LARS starts its schedule again for that stage, as the
        reference's audio-text fine-tuning is a run of its own (`bash/run_bimodal_at.sh:27`).
    epochs, batch_size, lr, weight_decay: audio-image pretraining. VIP-ANT: batch 432
        (`configs/running/bimodal.yaml:12`), weight decay 1e-6 (`configs/optimizer/standard.yaml:7`);
        `lr` 5e-4 (`standard.yaml:6`) is the Adam rate, which VIP-ANT's LARS runs never read
        (`cvap/monitor/cvalp.py:330-342`). Epochs: the paper trains 25 (the `paper` preset); the
        reference code leaves `running.epochs` at 1000 (`configs/running/bimodal.yaml:13`, an upper
        bound it checkpoints along) and its VA script sets 1 with batch 2 (`bash/run_bimodal_va.sh:27`,
        a smoke run), so the paper's number is taken. The default batch and epochs are scaled for CPU
        (ours). epochs 0 skips the audio-image stage (the audio ViT keeps its CLIP initialisation).
    lars_lr_weights, lars_lr_biases, warmup_epochs: 0.2, 4.8e-3 and 10 (`lr_weight`, `lr_bias`,
        `warmup_epoch`; `configs/optimizer/standard.yaml:10`, `:11`, `:5`); read with optimizer=lars.
    grad_clip: clip the gradient norm at this value before each step; 0 (default, and the reference's:
        nothing in it clips gradients) turns clipping off. `max_norm: 0.5` in
        `configs/optimizer/standard.yaml:9` is never read by the reference code (versions before 5
        credited it and clipped at 0.5).
    frame_resize: how frames are resized for CLIP's image tower: "torch" (default; ours: torch's
        antialiased bicubic on the float frames, rounded to whole values) or "pil" (the `paper`
        preset; VIP-ANT's: PIL's bicubic filter on the 8-bit image, torchvision's `Resize` then
        `CenterCrop`, `cvap/data/image/transform.py:11-18`, used at `cvap/data/image_audio.py:21,117`).
    max_steps: stop after this many optimiser steps in all, the curation stage's included (0: run
        every epoch; ours, for benchmarks).
    logit_scale_init: initial log inverse temperature, log(1/0.07) as CLIP and VIP-ANT's `CELossHead`
        (`cvap/module/decoder/loss_head.py:251`); learned.
    logit_scale_max: None (default) leaves the learned scale unclamped, as the reference code does
        (`scale_max: null`, `configs/model/loss/ce.yaml:4`, `ce_val.yaml:4`); a number clamps
        exp(logit_scale) at it in the loss, as the reference's `CELossHead` does when `scale_max` is set
        (`cvap/module/decoder/loss_head.py:276`). (CLIP itself keeps
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
    optimizer: Literal["adam", "lars"] = "adam"
    epochs: int = setting(3, low=0)
    batch_size: int = setting(256, low=2)
    lr: float = setting(5e-4, above=0)
    weight_decay: float = setting(1e-6, low=0)
    lars_lr_weights: float = setting(0.2, above=0)
    lars_lr_biases: float = setting(4.8e-3, above=0)
    warmup_epochs: float = setting(10.0, low=0)
    grad_clip: float = setting(0.0, low=0)
    frame_resize: Literal["torch", "pil"] = "torch"
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
            "optimizer": "lars",
            "lars_lr_weights": 0.2,
            "lars_lr_biases": 4.8e-3,
            "warmup_epochs": 10.0,
            "epochs": 25,
            "grad_clip": 0.0,
            "frame_resize": "pil",
        },
    }

    @property
    def frames(self) -> int:
        """FBANK frames per segment window as the audio ViT sees them."""
        return self.segment_frames or round(FRAMES_PER_SECOND * self.window_seconds)

    @property
    def window_samples(self) -> int:
        return round(SAMPLE_RATE * self.window_seconds)

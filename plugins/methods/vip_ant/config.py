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

from avtbench.api import UserError
from avtbench.audio.fbank import NORMALIZATION
from avtbench.audio.vit import VIPANT_FRAMES, VIPANT_MELS, VIPANT_STRIDE

SAMPLE_RATE = 16000
"""Raw-level audio rate of `Clips` (avtbench.api)."""
FRAMES_PER_SECOND = 100
"""FBANK frames per second at the 10 ms shift; VIP-ANT's 10 s clips give its 1000 frames."""


@dataclass
class VipAntConfig:
    """Configuration of VIP-ANT on the benchmark's per-segment clips.

    clip: the CLIP backbone: a Hugging Face id, a local folder, or "synth://clip" (a tiny CLIP
        trained on the frames of the corpus's first half with captions of the events they show, see
        `avtbench.backbones.pairs`). VIP-ANT uses OpenAI's ViT-B/32 (`clip_model_name: ViT-B32` in
        `configs/running/bimodal.yaml`); offline, pass a downloaded copy:
        --set vip_ant.clip=/path/to/clip-vit-base-patch32.
    stride: (time, frequency) stride of the 32x32 audio patches (16, 24), `bash/run_bimodal_va.sh`.
    num_mel_bins: FBANK mel bins (128), `configs/running/audio/default.yaml`.
    normalization: FBANK (mean, std) from `avtbench.audio.fbank.NORMALIZATION` ("vip-ant":
        -4.93839311, 5.75751113, `bash/run_bimodal_va.sh`).
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
    logit_scale_init: initial log inverse temperature, log(1/0.07) as CLIP and VIP-ANT's `CELossHead`
        (`cvap/module/decoder/loss_head.py`); learned.
    logit_scale_max: the scale exp(logit_scale) is clamped to this (CLIP's 100).
    curation: optional audio-text fine-tuning after the audio-image stage. "none"; "retrieved":
        each segment's audio is paired with the caption the frozen CLIP retrieves for its frame
        from the caption pool (every caption of the corpus); "random": a random pool caption (the
        control). The audio-text InfoNCE is added to the audio-image one.
    curation_epochs, curation_top_k, curation_weight: length of that stage, how many retrieved
        captions a segment draws from (uniformly, each epoch), and the weight of the audio-text term.
    synth_clip_hidden, synth_clip_layers, synth_clip_epochs, synth_clip_image_size, synth_clip_seed:
        size, training length, input resolution and seed of the `synth://clip` backbone (ignored
        for real checkpoints; see `avtbench.backbones.resolve.SynthClipConfig`). The CLIP seed is
        fixed rather than the method seed: VIP-ANT starts every run from the same pretrained CLIP,
        and the cached backbone is then trained once for all method seeds.
    encode_batch: segments per audio-ViT forward pass when encoding.
    preset: "default" or "paper" (see PRESETS); applied by the core before the other settings.
    """

    clip: str = "synth://clip"
    stride: tuple[int, int] = VIPANT_STRIDE
    num_mel_bins: int = VIPANT_MELS
    normalization: str = "vip-ant"
    window_seconds: float = 1.0
    segment_frames: int = 0
    fbank_backend: Literal["batched", "reference"] = "batched"
    epochs: int = 3
    batch_size: int = 256
    lr: float = 5e-4
    weight_decay: float = 1e-6
    grad_clip: float = 0.5
    logit_scale_init: float = math.log(1 / 0.07)
    logit_scale_max: float = 100.0
    curation: Literal["none", "retrieved", "random"] = "none"
    curation_epochs: int = 1
    curation_top_k: int = 1
    curation_weight: float = 1.0
    synth_clip_hidden: int = 64
    synth_clip_layers: int = 2
    synth_clip_epochs: int = 20
    synth_clip_image_size: int = 128
    synth_clip_seed: int = 0
    encode_batch: int = 512
    preset: str = "default"

    PRESETS: ClassVar[dict[str, dict[str, Any]]] = {
        "paper": {
            "stride": VIPANT_STRIDE,
            "num_mel_bins": VIPANT_MELS,
            "window_seconds": VIPANT_FRAMES / FRAMES_PER_SECOND,
            "segment_frames": VIPANT_FRAMES,
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

    def check(self) -> None:
        """One-line errors for settings that cannot work."""
        if self.normalization not in NORMALIZATION:
            raise UserError(f"vip_ant.normalization must be one of {', '.join(NORMALIZATION)}, got {self.normalization!r}")
        if self.window_seconds <= 0:
            raise UserError(f"vip_ant.window_seconds must be positive, got {self.window_seconds}")
        if self.frames < 32 or self.num_mel_bins < 32:
            raise UserError(f"vip_ant needs at least 32 FBANK frames and 32 mel bins for its 32x32 patches; "
                            f"got {self.frames} frames and {self.num_mel_bins} bins")
        if self.batch_size < 2 or self.epochs < 0 or self.curation_epochs < 0 or self.curation_top_k < 1:
            raise UserError("vip_ant needs batch_size >= 2, epochs >= 0, curation_epochs >= 0 and curation_top_k >= 1")

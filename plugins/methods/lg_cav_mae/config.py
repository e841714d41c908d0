"""Settings of `lg_cav_mae` (LG-CAV-MAE: Ishikawa, Nakada, Munakata, Saito, Komatsu, Aoki,
"Language-Guided Contrastive Audio-Visual Masked Autoencoder with Automatically Generated
Audio-Visual-Text Triplets from Videos", Interspeech 2025; base model CAV-MAE, YuanGongND/cav-mae).

Where each default comes from (see `constants.py` for the sources):
- CAV-MAE's code: FBANK statistics, 16 x 16 audio patches, normalised pixel targets, contrastive
  temperature 0.05, Adam's betas (0.95, 0.999) and weight decay 5e-7 (`src/traintest_cavmae.py:50`);
- the paper: lambda_2 = 0.01, keeping the top 30 % of the CLAP-ranked triplets;
- ours (the paper leaves them out, or they are sized for 2 CPU cores): the model sizes (width 128,
  2 + 1 encoder blocks, decoder 64 x 2), 1 s audio windows of 96 FBANK frames, the text-term
  temperature (0.05, CAV-MAE's) and direction (one), the text MLP's hidden width (the encoder
  width) and GELU, `embedding_space`, `pretrain_on`, and every `synth_*` size.
- ours, deviating from CAV-MAE / the paper so that a from-scratch model learns any audio-visual
  alignment on the synthetic world within ~5 minutes on 2 cores (with CAV-MAE's objective settings,
  12 epochs of batch 64, 64 x 64 frames and 128 mel bins, L_c stayed at its chance value and
  retrieval R@10 at chance, seed 0: a2v / v2a 3.7 / 4.3 with text, 3.7 / 7.3 without):
  * contrast_weight 1.0 (CAV-MAE and the paper: lambda_1 = 0.01, `C.CONTRAST_WEIGHT`, tuned for an
    ImageNet-initialised encoder; from scratch, 0.01 leaves L_c drowned by L_rec);
  * contrast_bidirectional true (CAV-MAE: one direction, each frame picking its audio): one
    direction trained only v2a; a2v stayed at chance (seed 0, 24 epochs: a2v 3.0, v2a 14.7);
  * mask_ratio_audio / _visual 0.5 (CAV-MAE: 0.75, `C.MASK_RATIO`): L_c sees the masked encoder's
    tokens, and with 0.75 of a handful of tokens it learnt more slowly;
  * image_size 32 (the synthetic world's native frame size; upsampling to 64 added tokens and no
    information) with visual_patch 8 (CAV-MAE: 16 x 16, `C.PATCH`; 16 would leave 2 x 2 tokens);
  * num_mel_bins 64 (CAV-MAE: 128, `C.MEL_BINS`): half the audio tokens, so more steps per second;
  * batch_size 32, epochs 24, lr 2e-3 after a 50-step linear warm-up, no decay (the paper: Adam at
    5e-4, `C.LR`, no warm-up stated): about 750 steps instead of 190 in the same budget.
  With these defaults (retrieval, seeds 0-2) R@10 a2v / v2a is 13.7 / 12.4 with text guidance and
  13.4 / 14.7 without (unaligned 2.3 / 2.0, chance 3.3), after 80-100 s of pretraining on 2 cores
  besides the triplet step (~106 s cold, cached afterwards).
  The `paper` preset restores the published sizes, CAV-MAE's objective (lambda_1 0.01, one
  direction, masking 0.75, 16 x 16 visual patches) and CAV-MAE's schedule on VGGSound (below), at
  the paper's lr 5e-4 without warm-up, and PIL's frame resize; `tiny` keeps CAV-MAE's objective too.
- the `paper` preset's schedule is CAV-MAE's VGGSound pretraining script,
  `egs/vggsound/run_cavmae_pretrain.sh` (YuanGongND/cav-mae 68fe8c2): 25 epochs (`:32`), batch 120
  (`:41`), the rate halved (`:34`) every 5 epochs (`:35`) from epoch 10 (`:33`) by
  `MultiStepLR(range(10, 1000, 5))` stepped after each epoch (`src/traintest_cavmae.py:57,168`).
  VGGSound's script is taken, not AudioSet's (batch 48, `egs/audioset/run_cavmae_pretrain_base.sh:41`,
  same epochs and decay, `:32-35`), because the benchmark's corpus is drawn from VGGSound. Its rate
  differs: 1e-4 (`egs/vggsound/run_cavmae_pretrain.sh:31`; AudioSet base 5e-5,
  `run_cavmae_pretrain_base.sh:31`) where the LG-CAV-MAE paper states 5e-4 (`C.LR`), which the preset
  keeps (the method's own paper; set `lg_cav_mae.lr=1e-4` for CAV-MAE's). Both scripts pass
  `--warmup True` (`:58`), which `src/run_cavmae_pretrain.py:51` parses and `traintest_cavmae.py`
  never reads: no warm-up.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from avtbench.config import setting

from . import constants as C

SAMPLE_RATE = 16000
"""Raw-level audio rate of `Clips` (avtbench.api)."""
FRAMES_PER_SECOND = 100
"""FBANK frames per second at the 10 ms shift."""
SYNTH_CAPTIONER = "synth://captioner"


@dataclass
class LGCavMaeConfig:
    """Configuration of LG-CAV-MAE on the benchmark's per-segment clips.

    clap: the frozen CLAP whose text tower encodes the triplets' captions and which scores captions
        against audio for the triplet filter: a Hugging Face id, a local folder, or "synth://clap"
        (a tiny transformers `ClapModel` trained on the corpus's second half, see `splits.py`). The
        paper uses Microsoft's CLAP 2023 (the `msclap` package, which has no transformers class);
        any transformers CLAP stands in for it, e.g. --set lg_cav_mae.clap=/path/to/clap-htsat-unfused.
    captioner: the image captioner of the triplet step, loaded with `AutoModelForImageTextToText`
        and `AutoProcessor` (BLIP-2 in the paper; any BLIP / BLIP-2 / VisionEncoderDecoder folder
        works), or "synth://captioner" (a tiny `BlipForConditionalGeneration`, see `captioner.py`).
    text_guidance: false trains plain CAV-MAE (no triplets, no text terms, no text modality).
    triplets_filter: false keeps every captioned clip (the issue's `triplets.filter=false`; a field
        of this method because a `triplets` section would not be a plugin).
    keep: the k of "top k %" of the CLAP-ranked triplets (paper: 50, 30 or 10).
    caption_frames: frames captioned per clip, evenly spaced (0: every frame, one per second; the
        paper's rate is lost in its text); caption_tokens: most new tokens per caption.
    pretrain_on: "corpus" (ours): every clip trains L_rec and L_c, the text terms take the batch's
        clips that have a kept triplet; "triplets": only the kept triplets are trained on (the paper,
        whose training set is the triplets).
    embedding_space: what `encode` returns. "av": CAV-MAE's mean-pooled shared-block outputs (its
        retrieval embedding; no text); "text": the MLP projections into CLAP's text space, where
        captions are CLAP text embeddings; "concat": both, each L2-normalised and scaled by 1/sqrt(2)
        (captions fill the text half only), so audio-visual similarity is the mean of the two cosines
        and audio-text similarity the text-space cosine; "auto" (default): "concat" with text
        guidance, "av" without.
    width, specific_depth, shared_depth, heads, decoder_width, decoder_depth, decoder_heads,
        mlp_ratio: encoder and decoder sizes (CAV-MAE: 768, 11, 1, 12, 512, 8, 16, 4).
    image_size: frames are resized (bicubic, `frame_resize`) to this square (CAV-MAE: 224); visual_patch: the side of
        the square visual patches (CAV-MAE: 16; audio patches stay 16 x 16).
    window_seconds, audio_frames: the audio each segment embedding sees (centred on the segment,
        kept inside the clip) and the FBANK frames it is padded or cut to (a multiple of 16).
    mask_ratio_audio, mask_ratio_visual, norm_pix_loss, contrast_weight, contrast_tau,
        contrast_bidirectional, mae_weight: CAV-MAE's objective.
    text_weight, text_tau, text_bidirectional, text_hidden, text_mlp: lambda_2, the temperature
        and directions of L_a2t and L_v2t, the MLP's hidden width (0: the encoder width) and whether
        audio and visual share one MLP ("shared": "a two-layer MLP", paper Sec. 3.1) or have one each.
    epochs, batch_size, lr, weight_decay, warmup_steps, segments_per_clip: Adam, its lr rising linearly
        over the first `warmup_steps` steps (0: none); each epoch visits every clip with
        `segments_per_clip` random segments (CAV-MAE draws one random frame per clip and epoch).
    lr_decay, lr_decay_start, lr_decay_every: the lr is multiplied by `lr_decay` after epoch
        `lr_decay_start` and after every `lr_decay_every` epochs more (CAV-MAE: 0.5, 10, 5, the `paper`
        preset; default 1.0, no decay, ours).
    frame_resize: "torch" (default; ours) or "pil" (the `paper` preset; CAV-MAE's PIL bicubic on the
        8-bit frame, `src/dataloader.py:124-128`); see `frontend.py`.
    max_steps: stop pretraining after this many optimiser steps in all (0: run every epoch; ours, for
        benchmarks); the triplet step before it always runs whole.
    synth_captioner_share: share of the corpus's first half that trains `synth://captioner`.
    synth_captioner_hidden, _layers, _epochs, _seed; synth_clap_hidden, _layers, _epochs, _seed:
        the synthetic backbones (ignored for real ones); the CLAP recipe is
        `avtbench.toolkit.synthetic_clap_recipe`, cmcr's too, so both methods share one cached `synth://clap`.
    encode_batch: segments per forward pass when encoding.
    checkpoint: a released CAV-MAE pretrained checkpoint (`cav-mae-scale++.pth`, `cav-mae-base.pth`, ...;
        see `released.py`) to evaluate as it is, without pretraining: with `preset=paper` (CAV-MAE's
        sizes) and `text_guidance=false` (the file holds no text MLP). Empty: pretrain.
    preset: "default", "paper" or "tiny" (a few-second smoke size for `avtbench check`).
    """

    clap: str = "synth://clap"
    captioner: str = SYNTH_CAPTIONER
    text_guidance: bool = True
    triplets_filter: bool = True
    keep: float = setting(C.KEEP_PERCENT, above=0, high=100)
    caption_frames: int = setting(0, low=0)
    caption_tokens: int = setting(24, low=1, high=512)
    pretrain_on: Literal["corpus", "triplets"] = "corpus"
    embedding_space: Literal["auto", "av", "text", "concat"] = "auto"
    width: int = setting(128, low=8)
    specific_depth: int = setting(2, low=0)
    shared_depth: int = setting(1, low=1)
    heads: int = setting(4, low=1)
    decoder_width: int = setting(64, low=8)
    decoder_depth: int = setting(2, low=1)
    decoder_heads: int = setting(4, low=1)
    mlp_ratio: float = setting(C.MLP_RATIO, above=0, high=16)
    image_size: int = setting(32, low=4)
    visual_patch: int = setting(8, low=2, high=64)
    window_seconds: float = setting(1.0, above=0)
    audio_frames: int = setting(96, low=C.PATCH)
    num_mel_bins: int = setting(64, low=C.PATCH)
    mask_ratio_audio: float = setting(0.5, low=0, high=0.99)
    mask_ratio_visual: float = setting(0.5, low=0, high=0.99)
    norm_pix_loss: bool = True
    mae_weight: float = setting(1.0, low=0)
    contrast_weight: float = setting(1.0, low=0)
    contrast_tau: float = setting(C.CONTRAST_TAU, above=0, high=100)
    contrast_bidirectional: bool = True
    text_weight: float = setting(C.TEXT_WEIGHT, low=0)
    text_tau: float = setting(C.CONTRAST_TAU, above=0, high=100)
    text_bidirectional: bool = False
    text_hidden: int = setting(0, low=0)
    text_mlp: Literal["shared", "per_modality"] = "shared"
    epochs: int = setting(24, low=0)
    batch_size: int = setting(32, low=2)
    lr: float = setting(2e-3, above=0)
    weight_decay: float = setting(5e-7, low=0)
    warmup_steps: int = setting(50, low=0)
    lr_decay: float = setting(1.0, above=0, high=1)
    lr_decay_start: int = setting(10, low=0)
    lr_decay_every: int = setting(5, low=1)
    frame_resize: Literal["torch", "pil"] = "torch"
    segments_per_clip: int = setting(1, low=1)
    max_steps: int = setting(0, low=0)
    synth_captioner_share: float = setting(0.5, above=0, high=0.9)
    synth_captioner_hidden: int = setting(64, low=8)
    synth_captioner_layers: int = setting(2, low=1)
    synth_captioner_epochs: int = setting(15, low=1)
    synth_captioner_seed: int = setting(0, low=0, high=2**32 - 1)
    synth_clap_hidden: int = setting(64, low=4)
    synth_clap_layers: int = setting(2, low=1)
    synth_clap_epochs: int = setting(20, low=1)
    synth_clap_seed: int = setting(0, low=0, high=2**32 - 1)
    encode_batch: int = setting(256, low=1)
    checkpoint: str = ""
    preset: Literal["default", "paper", "tiny"] = "default"

    PRESETS: ClassVar[dict[str, dict[str, Any]]] = {
        "tiny": {"width": 32, "specific_depth": 1, "heads": 2, "decoder_width": 32, "decoder_depth": 1, "decoder_heads": 2,
                 "image_size": 32, "audio_frames": 32, "num_mel_bins": 32, "epochs": 2, "batch_size": 8, "lr": 1e-3,
                 "synth_captioner_hidden": 16, "synth_captioner_layers": 1, "synth_captioner_epochs": 2,
                 "synth_clap_hidden": 16, "synth_clap_layers": 1, "synth_clap_epochs": 2, "caption_tokens": 8,
                 "visual_patch": C.PATCH, "mask_ratio_audio": C.MASK_RATIO, "mask_ratio_visual": C.MASK_RATIO,
                 "contrast_weight": C.CONTRAST_WEIGHT, "contrast_bidirectional": False, "warmup_steps": 0},
        "paper": {"width": C.EMBED_DIM, "specific_depth": C.SPECIFIC_DEPTH, "shared_depth": C.SHARED_DEPTH,
                  "heads": C.HEADS, "decoder_width": C.DECODER_DIM, "decoder_depth": C.DECODER_DEPTH,
                  "decoder_heads": C.DECODER_HEADS, "mlp_ratio": C.MLP_RATIO, "image_size": C.IMAGE_SIZE,
                  "window_seconds": C.CLIP_FRAMES / FRAMES_PER_SECOND, "audio_frames": C.CLIP_FRAMES,
                  "num_mel_bins": C.MEL_BINS, "lr": C.LR, "visual_patch": C.PATCH, "mask_ratio_audio": C.MASK_RATIO,
                  "mask_ratio_visual": C.MASK_RATIO, "contrast_weight": C.CONTRAST_WEIGHT,
                  "contrast_bidirectional": False, "warmup_steps": 0, "epochs": C.EPOCHS, "batch_size": C.BATCH_SIZE,
                  "lr_decay": C.LR_DECAY, "lr_decay_start": C.LR_DECAY_START, "lr_decay_every": C.LR_DECAY_EVERY,
                  "frame_resize": "pil"},
    }

    @property
    def window_samples(self) -> int:
        return round(SAMPLE_RATE * self.window_seconds)

    def space(self) -> str:
        """The embedding space `encode` serves ("av", "text" or "concat")."""
        if self.embedding_space != "auto":
            return self.embedding_space
        return "concat" if self.text_guidance else "av"

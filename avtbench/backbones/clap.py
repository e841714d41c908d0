"""CLAP backbones: `load_clap` (a hub id, a local folder or `synth://clap`) and the recipe of the
synthetic one, a tiny `ClapModel` (HTSAT-style Swin audio tower, RoBERTa-style text tower)
trained by `avtbench.backbones.synthetic` on the audio-caption pairs the caller supplies."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Iterable

import numpy as np
from torch import Tensor, nn

from avtbench.backbones.preprocess import AudioPreprocess
from avtbench.backbones.synthetic import OtherTower, TrainPairs, TwoTowerRecipe, load_two_tower, text_tower


@dataclass(frozen=True)
class SynthClapConfig(TwoTowerRecipe):
    """A tiny CLAP. The audio front end is transformers' `ClapFeatureExtractor` at the benchmark's
    16 kHz with a 25 ms window and 10 ms hop (Kaldi's frame sizes) over `seconds` of audio, with
    the unfused model's `rand_trunc` / `repeatpad` settings (laion/clap-htsat-unfused); the HTSAT
    tower keeps its design (Swin stages with patch merging) at a small size: `spec_size` 64 over
    32 mel bins (frequency ratio 2, so up to 128 frames, 1.27 s at the 10 ms hop)."""

    kind: ClassVar[str] = "clap"
    tower: ClassVar[OtherTower] = OtherTower(model="audio_model", projection="audio_projection", inputs="input_features",
                                             scales=("logit_scale_a", "logit_scale_t"))

    sample_rate: int = 16000
    seconds: int = 1
    num_mel_bins: int = 32
    hop_length: int = 160
    fft_window: int = 400
    spec_size: int = 64
    patch_size: int = 4
    window_size: int = 4
    depths: tuple[int, ...] = (1, 1)
    audio_heads: tuple[int, ...] = (2, 4)
    patch_embeds_hidden: int = 32

    @property
    def audio_hidden(self) -> int:
        """Width of the last Swin stage: the patch width doubles at every patch merging."""
        return self.patch_embeds_hidden * 2 ** (len(self.depths) - 1)

    def check(self) -> None:
        ratio = self.spec_size // self.num_mel_bins
        frames = 1 + self.seconds * self.sample_rate // self.hop_length
        if ratio < 1 or frames > self.spec_size * ratio:
            raise ValueError(f"{frames} frames of {self.num_mel_bins} mel bins do not fit a spec_size of {self.spec_size}")

    def processor(self) -> Any:
        from transformers import ClapFeatureExtractor

        return ClapFeatureExtractor(feature_size=self.num_mel_bins, sampling_rate=self.sample_rate,
                                    hop_length=self.hop_length, max_length_s=self.seconds, fft_window_size=self.fft_window,
                                    frequency_min=0, frequency_max=self.sample_rate // 2, truncation="rand_trunc",
                                    padding="repeatpad")

    def features(self, processor: Any, inputs: np.ndarray) -> Tensor:
        return AudioPreprocess(processor, self.sample_rate)(inputs)["input_features"]

    def build(self, tokenizer: Any) -> nn.Module:
        from transformers import ClapConfig, ClapModel

        self.check()
        # RoBERTa-style positions start after the padding id
        text = text_tower(tokenizer, self.text_hidden, self.text_layers, self.text_heads,
                          self.max_text_length + tokenizer.pad_token_id + 2, type_vocab_size=1,
                          hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
        audio = dict(num_mel_bins=self.num_mel_bins, spec_size=self.spec_size, patch_size=self.patch_size,
                     patch_stride=(self.patch_size, self.patch_size), window_size=self.window_size,
                     depths=list(self.depths), num_attention_heads=list(self.audio_heads),
                     patch_embeds_hidden_size=self.patch_embeds_hidden, hidden_size=self.audio_hidden,
                     enable_fusion=False, hidden_dropout_prob=0.0, mlp_ratio=2.0)
        return ClapModel(ClapConfig(text_config=text, audio_config=audio, projection_dim=self.projection_dim))


def load_clap(name_or_path: str, cache_dir: Path | None, train_pairs: TrainPairs | None = None,
              fingerprint: str | None = None, config: SynthClapConfig | None = None,
              vocabulary: Iterable[str] = (), setting: str = "<method>.clap",
              input_rate: int = 16000) -> tuple[Any, Any, AudioPreprocess]:
    """(ClapModel, tokenizer, audio preprocessing), frozen, for a hub id, a local folder or `synth://clap`.

    For `synth://clap`, `train_pairs` returns (waveforms float32 [N, samples] at 16 kHz, N captions).
    The preprocessing takes waveforms [B, samples] at `input_rate` and returns the model's keyword inputs.
    """
    model, tokenizer, processor = load_two_tower("clap", config or SynthClapConfig(), name_or_path, cache_dir,
                                                 train_pairs, fingerprint, vocabulary, setting)
    return model, tokenizer, AudioPreprocess(processor, input_rate)

"""CLIP- and CLAP-like backbones, real or synthetic, always loaded through transformers' `from_pretrained`.

`load_clip` and `load_clap` take a Hugging Face id, a local folder, or a synthetic name:

- `synth://clip`: a tiny `CLIPModel` (ViT image tower with 32x32 patches, word-level text tower);
- `synth://clap`: a tiny `ClapModel` (HTSAT-style Swin audio tower, RoBERTa-style text tower);
- `synth://text` is the text encoder of `avtbench.backbones.text` (see `load_text`).

A synthetic backbone is randomly initialised from a seed, trained contrastively (symmetric InfoNCE,
as CLIP and CLAP are) on the pairs `train_pairs()` returns, saved with `save_pretrained` (model,
tokenizer and image processor / feature extractor) into `<cache>/backbones/synth-<kind>-<key>/`
through a temporary folder and a rename, and then loaded back through the very `from_pretrained`
path a real checkpoint takes. The key hashes the backbone settings, the vocabulary and a
fingerprint of the training pairs, so backbones trained on different data never share a folder.

Everything returned is in eval mode with frozen parameters, as `load_text_encoder` does. The third
element of the tuple is a callable preprocessing object that keeps the loaded processor, so that
`backbone_state` can store a backbone as tensors and `backbone_from_state` can rebuild it (again
through `from_pretrained`) without the cache.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from avtbench.api import UserError
from avtbench.backbones.text import (
    BASE_WORDS,
    SYNTH_TEXT,
    build_word_tokenizer,
    caption_words,
    default_cache_dir,
    load_text_encoder,
    publish_folder,
    quiet_transformers,
)

SYNTH_CLIP = "synth://clip"
SYNTH_CLAP = "synth://clap"
SYNTH_VERSION = 1
"""Bump when the synthetic recipe changes, so that old cache folders are not reused."""

TrainPairs = Callable[[], tuple[np.ndarray, list[str]]]
"""Returns (frames uint8 [N, S, S, 3] or waveforms float32 [N, samples], N captions)."""

EXAMPLE_FOLDER = {"clip": "/path/to/clip-vit-base-patch32", "clap": "/path/to/clap-htsat-unfused"}
MAX_LOGIT_SCALE = 100.0
"""CLIP clips the learned temperature so that logits are scaled by at most 100 (Radford et al. 2021, Sec. 2.5)."""
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)
"""Pixel statistics of OpenAI CLIP (openai/CLIP `clip/clip.py`, `_transform`), also `CLIPImageProcessor`'s defaults."""


# ---------------------------------------------------------------------------------- configs


@dataclass(frozen=True)
class ContrastiveSchedule:
    """How a synthetic backbone is trained: AdamW with CLIP's ViT betas (0.9, 0.98) and eps 1e-6,
    the temperature initialised at 1/0.07 and clamped at 100 (Radford et al. 2021, Appendix F),
    on shuffled mini-batches at a constant learning rate. epochs, batch_size, lr and
    weight_decay are sized for ~1000 pairs on a CPU (CLIP itself: 32 epochs of batch 32768,
    weight decay 0.2, warm-up and cosine decay)."""

    epochs: int = 30
    batch_size: int = 128
    lr: float = 1e-3
    weight_decay: float = 0.1
    seed: int = 0


@dataclass(frozen=True)
class SynthClipConfig:
    """A tiny CLIP. patch_size 32 is ViT-B/32's, so that VIP-ANT's 32x32 audio kernels carry over.
    image_size 128 upsamples the synthetic world's 32x32 frames to a 4x4 grid of patches that each
    cover 8x8 frame pixels: on the synthetic corpus (1000 clips, 20 epochs) this doubled the
    cross-clip class agreement of nearest frame embeddings over a 64-pixel input (2x2 grid), from
    5 % to 11 % (chance 2 %). Widths are small enough to train on ~1000 pairs in well under a
    minute on a CPU. max_text_length: token budget (CLIP uses 77; synthetic captions are shorter)."""

    image_size: int = 128
    patch_size: int = 32
    vision_hidden: int = 64
    vision_layers: int = 2
    vision_heads: int = 2
    text_hidden: int = 64
    text_layers: int = 2
    text_heads: int = 2
    projection_dim: int = 64
    max_text_length: int = 32
    schedule: ContrastiveSchedule = ContrastiveSchedule()


@dataclass(frozen=True)
class SynthClapConfig:
    """A tiny CLAP. The audio front end is transformers' `ClapFeatureExtractor` at the benchmark's
    16 kHz with a 25 ms window and 10 ms hop (Kaldi's frame sizes) over `seconds` of audio, with
    the unfused model's `rand_trunc` / `repeatpad` settings (laion/clap-htsat-unfused); the HTSAT
    tower keeps its design (Swin stages with patch merging) at a small size: `spec_size` 64 over
    32 mel bins (frequency ratio 2, so up to 128 frames, 1.27 s at the 10 ms hop)."""

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
    text_hidden: int = 64
    text_layers: int = 2
    text_heads: int = 2
    projection_dim: int = 64
    max_text_length: int = 32
    schedule: ContrastiveSchedule = ContrastiveSchedule()

    @property
    def audio_hidden(self) -> int:
        """Width of the last Swin stage: the patch width doubles at every patch merging."""
        return self.patch_embeds_hidden * 2 ** (len(self.depths) - 1)

    def check(self) -> None:
        ratio = self.spec_size // self.num_mel_bins
        frames = 1 + self.seconds * self.sample_rate // self.hop_length
        if ratio < 1 or frames > self.spec_size * ratio:
            raise ValueError(f"{frames} frames of {self.num_mel_bins} mel bins do not fit a spec_size of {self.spec_size}")


# ---------------------------------------------------------------------------------- preprocessing


def _size_value(size: Any, key: str) -> int | None:
    value = size.get(key) if isinstance(size, dict) else getattr(size, key, None)
    return int(value) if value is not None else None


class ImagePreprocess:
    """uint8 frames [B, H, W, 3] -> pixel values [B, 3, h, w] as the loaded image processor specifies.

    Follows `CLIPImageProcessor`'s recipe (resize the shortest edge, centre crop, rescale by 1/255,
    normalize with the processor's mean and std) in torch on the whole batch; the bicubic resize is
    torch's antialiased one rather than PIL's, rounded to integers as PIL's uint8 output is. The
    processor itself stays in `processor` so that it can be saved with the model.
    """

    def __init__(self, processor: Any) -> None:
        self.processor = processor
        size = getattr(processor, "size", None) or {}
        crop = getattr(processor, "crop_size", None) or {}
        self.shortest_edge = _size_value(size, "shortest_edge")
        self.size = (_size_value(size, "height"), _size_value(size, "width"))
        self.crop = (_size_value(crop, "height"), _size_value(crop, "width"))
        self.do_resize = bool(getattr(processor, "do_resize", True))
        self.do_crop = bool(getattr(processor, "do_center_crop", False)) and None not in self.crop
        self.scale = float(getattr(processor, "rescale_factor", 1 / 255)) if getattr(processor, "do_rescale", True) else 1.0
        normalize = getattr(processor, "do_normalize", True)
        self.mean = torch.tensor(processor.image_mean if normalize else (0.0, 0.0, 0.0)).view(1, 3, 1, 1)
        self.std = torch.tensor(processor.image_std if normalize else (1.0, 1.0, 1.0)).view(1, 3, 1, 1)

    def __call__(self, frames: np.ndarray | Tensor) -> Tensor:
        x = torch.as_tensor(np.asarray(frames) if not isinstance(frames, Tensor) else frames)
        if x.dim() != 4 or x.shape[-1] != 3:
            raise ValueError(f"expected frames [B, H, W, 3], got {tuple(x.shape)}")
        x = x.permute(0, 3, 1, 2).float()
        if self.do_resize:
            x = _resize(x, self._target(x.shape[-2], x.shape[-1]))
        if self.do_crop:
            x = _center_crop(x, self.crop)
        return ((x * self.scale) - self.mean) / self.std

    def _target(self, height: int, width: int) -> tuple[int, int]:
        if self.shortest_edge is None:
            return self.size[0] or height, self.size[1] or width
        short, long = sorted((height, width))
        new_long = int(self.shortest_edge * long / short)
        return (self.shortest_edge, new_long) if height <= width else (new_long, self.shortest_edge)


def _resize(x: Tensor, size: tuple[int, int]) -> Tensor:
    if tuple(x.shape[-2:]) == tuple(size):
        return x
    return F.interpolate(x, size=size, mode="bicubic", align_corners=False, antialias=True).round().clamp(0, 255)


def _center_crop(x: Tensor, crop: tuple[int, int]) -> Tensor:
    height, width = x.shape[-2:]
    ch, cw = crop
    if (height, width) == (ch, cw):
        return x
    if height < ch or width < cw:
        x = F.pad(x, (max(0, (cw - width) // 2), max(0, cw - width - (cw - width) // 2),
                      max(0, (ch - height) // 2), max(0, ch - height - (ch - height) // 2)))
        height, width = x.shape[-2:]
    top, left = (height - ch) // 2, (width - cw) // 2
    return x[..., top:top + ch, left:left + cw]


class AudioPreprocess:
    """Waveforms [B, samples] at `input_rate` -> the model inputs of the loaded feature extractor.

    Resamples (FFT method) when the extractor expects another rate, centre-crops anything longer
    than the extractor's maximum length (the extractor itself would crop at random), then calls the
    extractor and returns its tensors (`input_features`, `is_longer`).
    """

    def __init__(self, processor: Any, input_rate: int = 16000) -> None:
        self.processor = processor
        self.input_rate = int(input_rate)
        self.rate = int(getattr(processor, "sampling_rate", input_rate))
        self.max_samples = int(getattr(processor, "nb_max_samples", 0) or 0)

    def __call__(self, waveforms: np.ndarray | Tensor) -> dict[str, Tensor]:
        x = torch.as_tensor(np.asarray(waveforms) if not isinstance(waveforms, Tensor) else waveforms).double()
        if x.dim() != 2:
            raise ValueError(f"expected waveforms [B, samples], got {tuple(x.shape)}")
        x = resample(x, self.input_rate, self.rate)
        if self.max_samples and x.shape[1] > self.max_samples:
            start = (x.shape[1] - self.max_samples) // 2
            x = x[:, start:start + self.max_samples]
        out = self.processor(list(x.numpy()), sampling_rate=self.rate, return_tensors="pt")
        return {k: v for k, v in out.items() if isinstance(v, Tensor)}


def resample(waveforms: Tensor, source_rate: int, target_rate: int) -> Tensor:
    """[B, n] -> [B, round(n * target / source)] by truncating or zero-padding the spectrum."""
    if source_rate == target_rate:
        return waveforms
    n = waveforms.shape[-1]
    m = max(1, round(n * target_rate / source_rate))
    spectrum = torch.fft.rfft(waveforms, dim=-1)
    bins = m // 2 + 1
    spectrum = spectrum[..., :bins] if spectrum.shape[-1] >= bins else F.pad(spectrum, (0, bins - spectrum.shape[-1]))
    return torch.fft.irfft(spectrum, n=m, dim=-1) * (m / n)


Preprocess = ImagePreprocess | AudioPreprocess


# ---------------------------------------------------------------------------------- loss


def symmetric_info_nce(a: Tensor, b: Tensor, logit_scale: Tensor, logit_scale_ba: Tensor | None = None,
                       groups: Tensor | None = None) -> Tensor:
    """CLIP's loss: cross-entropy of a->b plus b->a over cosine similarities times exp(logit_scale).

    Row i of `a` and of `b` form the positive pair; both directions are summed, as VIP-ANT's
    `CELossHead` does (zhaoyanpeng/vipant `cvap/module/decoder/loss_head.py`), where CLIP averages
    them. `logit_scale_ba` gives the b->a direction its own scale (ClapModel has `logit_scale_a`
    and `logit_scale_t`). Pairs sharing a `groups` id (e.g. the same caption text) are not
    counted as negatives of each other. Inputs need not be normalized.
    """
    similarity = F.normalize(a, dim=-1) @ F.normalize(b, dim=-1).T
    scale_ba = logit_scale if logit_scale_ba is None else logit_scale_ba
    logits_ab, logits_ba = logit_scale.exp() * similarity, scale_ba.exp() * similarity.T
    if groups is not None:
        groups = groups.to(a.device)
        same = (groups[:, None] == groups[None, :]) & ~torch.eye(len(groups), dtype=torch.bool, device=a.device)
        logits_ab, logits_ba = logits_ab.masked_fill(same, float("-inf")), logits_ba.masked_fill(same.T, float("-inf"))
    labels = torch.arange(len(a), device=a.device)
    return F.cross_entropy(logits_ab, labels) + F.cross_entropy(logits_ba, labels)


# ---------------------------------------------------------------------------------- public loaders


def load_clip(name_or_path: str, cache_dir: Path | None = None, train_pairs: TrainPairs | None = None,
              fingerprint: str | None = None, config: SynthClipConfig | None = None,
              vocabulary: Iterable[str] = (), setting: str = "<method>.clip") -> tuple[Any, Any, ImagePreprocess]:
    """(CLIPModel, tokenizer, image preprocessing) for a hub id, a local folder or `synth://clip`.

    For `synth://clip`, `train_pairs` returns (frames uint8 [N, S, S, 3], N captions) and is only
    called when the backbone is not cached yet (and to fingerprint the data when no `fingerprint`
    is given); `vocabulary` adds the words of further texts to the tokenizer. `setting` names the
    option shown in the offline error (e.g. "vip_ant.clip").
    """
    source = _resolve("clip", name_or_path, cache_dir, train_pairs, fingerprint, config or SynthClipConfig(), vocabulary)
    return _load("clip", source, name_or_path, setting)  # type: ignore[return-value]


def load_clap(name_or_path: str, cache_dir: Path | None = None, train_pairs: TrainPairs | None = None,
              fingerprint: str | None = None, config: SynthClapConfig | None = None,
              vocabulary: Iterable[str] = (), setting: str = "<method>.clap") -> tuple[Any, Any, AudioPreprocess]:
    """(ClapModel, tokenizer, audio preprocessing) for a hub id, a local folder or `synth://clap`.

    For `synth://clap`, `train_pairs` returns (waveforms float32 [N, samples] at 16 kHz, N captions).
    The preprocessing takes 16 kHz waveforms [B, samples] and returns the model's keyword inputs.
    """
    source = _resolve("clap", name_or_path, cache_dir, train_pairs, fingerprint, config or SynthClapConfig(), vocabulary)
    return _load("clap", source, name_or_path, setting)  # type: ignore[return-value]


def load_text(name_or_path: str, cache_dir: Path | None = None, **kwargs: Any) -> tuple[Any, Any]:
    """(tokenizer, model) of a BERT-like text encoder or `synth://text`; see `load_text_encoder`."""
    return load_text_encoder(name_or_path, cache_dir, **kwargs)


def synth_kind(name_or_path: str) -> str | None:
    """"clip", "clap" or "text" for a synthetic backbone name, None for anything else."""
    return {SYNTH_CLIP: "clip", SYNTH_CLAP: "clap", SYNTH_TEXT: "text"}.get(name_or_path)


# ---------------------------------------------------------------------------------- resolving and loading


def _resolve(kind: str, name_or_path: str, cache_dir: Path | None, train_pairs: TrainPairs | None,
             fingerprint: str | None, config: Any, vocabulary: Iterable[str]) -> str:
    if synth_kind(name_or_path) == kind:
        if train_pairs is None:
            raise ValueError(f"{name_or_path} is trained on the caller's data: pass train_pairs")
        cache = Path(cache_dir) if cache_dir else default_cache_dir()
        return str(ensure_synth(kind, cache, train_pairs, fingerprint, config, vocabulary))
    if name_or_path.startswith("synth://"):
        wanted = SYNTH_CLIP if kind == "clip" else SYNTH_CLAP
        raise UserError(f"unknown synthetic {kind.upper()} backbone {name_or_path!r}; the synthetic one is {wanted}")
    local = Path(name_or_path).expanduser()
    return str(local) if local.exists() else name_or_path


def _load(kind: str, source: str, shown: str, setting: str) -> tuple[Any, Any, Preprocess]:
    from transformers import AutoFeatureExtractor, AutoImageProcessor, AutoTokenizer, ClapModel, CLIPModel

    model_class, processor_class = (CLIPModel, AutoImageProcessor) if kind == "clip" else (ClapModel, AutoFeatureExtractor)
    try:
        with quiet_transformers():
            model = model_class.from_pretrained(source)
            tokenizer = AutoTokenizer.from_pretrained(source)
            processor = processor_class.from_pretrained(source)
    except (OSError, ValueError) as exc:
        raise UserError(
            f"cannot load {shown} offline; download it elsewhere and pass its local folder, "
            f"e.g. --set {setting}={EXAMPLE_FOLDER[kind]}"
        ) from exc
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    preprocess = ImagePreprocess(processor) if kind == "clip" else AudioPreprocess(processor)
    return model, tokenizer, preprocess


# ---------------------------------------------------------------------------------- the synthetic backbones


def data_fingerprint(inputs: np.ndarray, captions: list[str]) -> str:
    """Hash of training pairs: the inputs' dtype, shape and bytes and the captions in order."""
    array = np.ascontiguousarray(inputs)
    digest = hashlib.sha256(f"{array.dtype}|{array.shape}|".encode())
    digest.update(array.tobytes())
    digest.update("\n".join(captions).encode())
    return digest.hexdigest()[:16]


def synth_key(kind: str, config: Any, fingerprint: str, vocabulary: Iterable[str] = ()) -> str:
    """Cache key of a synthetic backbone: its settings, what it was trained on, its extra words."""
    payload = {"kind": kind, "config": dataclasses.asdict(config), "data": fingerprint,
               "words": caption_words(vocabulary), "v": SYNTH_VERSION}
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=list).encode()).hexdigest()[:16]


def synth_folder(cache_dir: Path, kind: str, key: str) -> Path:
    return Path(cache_dir) / "backbones" / f"synth-{kind}-{key}"


def ensure_synth(kind: str, cache_dir: Path, train_pairs: TrainPairs, fingerprint: str | None, config: Any,
                 vocabulary: Iterable[str] = ()) -> Path:
    """Folder of the synthetic backbone trained on `train_pairs()`, trained and saved on first use."""
    vocabulary = list(vocabulary)
    pairs = None
    if fingerprint is None:
        pairs = _checked_pairs(train_pairs())
        fingerprint = data_fingerprint(*pairs)
    target = synth_folder(cache_dir, kind, synth_key(kind, config, fingerprint, vocabulary))
    if (target / "config.json").is_file() and (target / "avtbench.json").is_file():
        return target
    inputs, captions = pairs or _checked_pairs(train_pairs())
    build = _train_synth_clip if kind == "clip" else _train_synth_clap
    model, tokenizer, processor, losses = build(config, inputs, captions, vocabulary)
    record = {"kind": kind, "fingerprint": fingerprint, "pairs": len(captions), "epoch_losses": losses,
              "config": dataclasses.asdict(config), "version": SYNTH_VERSION}

    def write(folder: Path) -> None:
        model.save_pretrained(folder)
        tokenizer.save_pretrained(folder)
        processor.save_pretrained(folder)
        (folder / "avtbench.json").write_text(json.dumps(record, indent=1, default=list) + "\n")

    return publish_folder(target, write)


def _checked_pairs(pairs: tuple[np.ndarray, list[str]]) -> tuple[np.ndarray, list[str]]:
    inputs, captions = pairs
    captions = [str(c) for c in captions]
    if len(inputs) != len(captions) or len(captions) < 2:
        raise ValueError(f"need at least 2 training pairs with one caption each, got {len(inputs)} inputs "
                         f"and {len(captions)} captions")
    return np.asarray(inputs), captions


def _tokenizer_for(captions: list[str], vocabulary: list[str], max_length: int) -> Any:
    words = [*BASE_WORDS, *caption_words(captions), *caption_words(vocabulary)]
    return build_word_tokenizer(words, model_max_length=max_length)


def _clip_config(cfg: SynthClipConfig, tokenizer: Any) -> Any:
    from transformers import CLIPConfig

    text = dict(vocab_size=len(tokenizer), hidden_size=cfg.text_hidden, intermediate_size=2 * cfg.text_hidden,
                num_hidden_layers=cfg.text_layers, num_attention_heads=cfg.text_heads,
                max_position_embeddings=cfg.max_text_length, pad_token_id=tokenizer.pad_token_id,
                bos_token_id=tokenizer.cls_token_id, eos_token_id=tokenizer.sep_token_id)
    vision = dict(hidden_size=cfg.vision_hidden, intermediate_size=2 * cfg.vision_hidden,
                  num_hidden_layers=cfg.vision_layers, num_attention_heads=cfg.vision_heads,
                  image_size=cfg.image_size, patch_size=cfg.patch_size)
    return CLIPConfig(text_config=text, vision_config=vision, projection_dim=cfg.projection_dim)


def _train_synth_clip(cfg: SynthClipConfig, frames: np.ndarray, captions: list[str],
                      vocabulary: list[str]) -> tuple[Any, Any, Any, list[float]]:
    from transformers import CLIPModel

    tokenizer = _tokenizer_for(captions, vocabulary, cfg.max_text_length)
    with quiet_transformers():
        from transformers import CLIPImageProcessor  # without torchvision: a logged fallback to the PIL class

        processor = CLIPImageProcessor(size={"shortest_edge": cfg.image_size},
                                       crop_size={"height": cfg.image_size, "width": cfg.image_size},
                                       image_mean=list(CLIP_MEAN), image_std=list(CLIP_STD))
    pixels = ImagePreprocess(processor)(frames)
    tokens = _tokenize(tokenizer, captions)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(cfg.schedule.seed)
        model = CLIPModel(_clip_config(cfg, tokenizer))

        def embed(index: Tensor) -> tuple[Tensor, Tensor]:
            image = model.visual_projection(model.vision_model(pixel_values=pixels[index]).pooler_output)
            text = model.text_projection(model.text_model(**_rows(tokens, index)).pooler_output)
            return image, text

        losses = _fit_contrastive(model, embed, _caption_groups(captions), (model.logit_scale, model.logit_scale),
                                  cfg.schedule)
    return model.eval(), tokenizer, processor, losses


def _clap_config(cfg: SynthClapConfig, tokenizer: Any) -> Any:
    from transformers import ClapConfig

    cfg.check()
    text = dict(vocab_size=len(tokenizer), hidden_size=cfg.text_hidden, intermediate_size=2 * cfg.text_hidden,
                num_hidden_layers=cfg.text_layers, num_attention_heads=cfg.text_heads,
                max_position_embeddings=cfg.max_text_length + tokenizer.pad_token_id + 2, type_vocab_size=1,
                pad_token_id=tokenizer.pad_token_id, bos_token_id=tokenizer.cls_token_id,
                eos_token_id=tokenizer.sep_token_id, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    audio = dict(num_mel_bins=cfg.num_mel_bins, spec_size=cfg.spec_size, patch_size=cfg.patch_size,
                 patch_stride=(cfg.patch_size, cfg.patch_size), window_size=cfg.window_size, depths=list(cfg.depths),
                 num_attention_heads=list(cfg.audio_heads), patch_embeds_hidden_size=cfg.patch_embeds_hidden,
                 hidden_size=cfg.audio_hidden, enable_fusion=False, hidden_dropout_prob=0.0, mlp_ratio=2.0)
    return ClapConfig(text_config=text, audio_config=audio, projection_dim=cfg.projection_dim)


def _clap_extractor(cfg: SynthClapConfig) -> Any:
    from transformers import ClapFeatureExtractor

    return ClapFeatureExtractor(feature_size=cfg.num_mel_bins, sampling_rate=cfg.sample_rate, hop_length=cfg.hop_length,
                                max_length_s=cfg.seconds, fft_window_size=cfg.fft_window, frequency_min=0,
                                frequency_max=cfg.sample_rate // 2, truncation="rand_trunc", padding="repeatpad")


def _train_synth_clap(cfg: SynthClapConfig, waveforms: np.ndarray, captions: list[str],
                      vocabulary: list[str]) -> tuple[Any, Any, Any, list[float]]:
    from transformers import ClapModel

    tokenizer = _tokenizer_for(captions, vocabulary, cfg.max_text_length)
    extractor = _clap_extractor(cfg)
    with quiet_transformers():
        features = AudioPreprocess(extractor, cfg.sample_rate)(waveforms)["input_features"]
    tokens = _tokenize(tokenizer, captions)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(cfg.schedule.seed)
        model = ClapModel(_clap_config(cfg, tokenizer))

        def embed(index: Tensor) -> tuple[Tensor, Tensor]:
            audio = model.audio_projection(model.audio_model(input_features=features[index]).pooler_output)
            text = model.text_projection(model.text_model(**_rows(tokens, index)).pooler_output)
            return audio, text

        losses = _fit_contrastive(model, embed, _caption_groups(captions), (model.logit_scale_a, model.logit_scale_t),
                                  cfg.schedule)
    return model.eval(), tokenizer, extractor, losses


def _tokenize(tokenizer: Any, captions: list[str]) -> dict[str, Tensor]:
    out = tokenizer(captions, padding=True, truncation=True, return_tensors="pt")
    return {k: out[k] for k in ("input_ids", "attention_mask")}


def _rows(tokens: dict[str, Tensor], index: Tensor) -> dict[str, Tensor]:
    return {k: v[index] for k, v in tokens.items()}


def _caption_groups(captions: list[str]) -> Tensor:
    ids: dict[str, int] = {}
    return torch.tensor([ids.setdefault(c.strip().lower(), len(ids)) for c in captions])


def _fit_contrastive(model: torch.nn.Module, embed: Callable[[Tensor], tuple[Tensor, Tensor]], groups: Tensor,
                     scales: tuple[Tensor, Tensor], schedule: ContrastiveSchedule) -> list[float]:
    """Train `model` on symmetric InfoNCE over mini-batches of pair indices; mean loss per epoch."""
    optimizer = torch.optim.AdamW(model.parameters(), lr=schedule.lr, betas=(0.9, 0.98), eps=1e-6,
                                  weight_decay=schedule.weight_decay)
    generator = torch.Generator().manual_seed(schedule.seed)
    n = len(groups)
    batch = max(2, min(schedule.batch_size, n))
    losses = []
    model.train()
    for _ in range(schedule.epochs):
        order, total, steps = torch.randperm(n, generator=generator), 0.0, 0
        for start in range(0, n - 1, batch):
            index = order[start:start + batch]
            if len(index) < 2:
                continue
            a, b = embed(index)
            loss = symmetric_info_nce(a, b, scales[0], scales[1], groups=groups[index])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            _clamp_scales(scales)
            total, steps = total + float(loss.detach()), steps + 1
        losses.append(total / max(steps, 1))
    return losses


def _clamp_scales(scales: Iterable[Tensor]) -> None:
    with torch.no_grad():
        for scale in scales:
            scale.clamp_(0.0, math.log(MAX_LOGIT_SCALE))


# ---------------------------------------------------------------------------------- backbones as tensors


def backbone_state(model: Any, tokenizer: Any, preprocess: Preprocess, prefix: str = "backbone.") -> dict[str, Tensor]:
    """A loaded backbone as tensors: its weights (`<prefix>weight.<name>`) and the small files that
    `save_pretrained` writes for its config, tokenizer and processor (`<prefix>file.<name>`, bytes
    as uint8). `backbone_from_state` rebuilds it without the cache or the hub."""
    state: dict[str, Tensor] = {}
    with tempfile.TemporaryDirectory() as tmp, quiet_transformers():
        model.config.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        preprocess.processor.save_pretrained(tmp)
        for path in sorted(Path(tmp).iterdir()):
            if path.is_file():
                state[f"{prefix}file.{path.name}"] = bytes_tensor(path.read_bytes())
    seen: set[int] = set()
    for name, tensor in model.state_dict().items():
        tensor = tensor.detach().cpu().contiguous()
        if tensor.data_ptr() in seen:
            tensor = tensor.clone()
        seen.add(tensor.data_ptr())
        state[f"{prefix}weight.{name}"] = tensor
    return state


def backbone_from_state(kind: str, state: dict[str, Tensor], prefix: str = "backbone.",
                        input_rate: int = 16000) -> tuple[Any, Any, Preprocess]:
    """Inverse of `backbone_state`: writes the files and weights to a temporary folder and loads it
    with `from_pretrained`, like any checkpoint. `kind` is "clip" or "clap"."""
    from safetensors.torch import save_file

    files = {k[len(prefix) + 5:]: v for k, v in state.items() if k.startswith(prefix + "file.")}
    weights = {k[len(prefix) + 7:]: v.contiguous() for k, v in state.items() if k.startswith(prefix + "weight.")}
    if "config.json" not in files or not weights:
        raise UserError("this saved method holds no backbone; pretrain it again")
    with tempfile.TemporaryDirectory() as tmp:
        for name, data in files.items():
            (Path(tmp) / name).write_bytes(tensor_bytes(data))
        save_file(weights, str(Path(tmp) / "model.safetensors"), metadata={"format": "pt"})
        model, tokenizer, preprocess = _load(kind, tmp, "the saved backbone", f"<method>.{kind}")
    if isinstance(preprocess, AudioPreprocess):
        preprocess.input_rate = input_rate
    return model, tokenizer, preprocess


def bytes_tensor(data: bytes) -> Tensor:
    """Bytes as a uint8 tensor (how text and files travel in a tensors-only state dict)."""
    return torch.from_numpy(np.frombuffer(data, dtype=np.uint8).copy())


def tensor_bytes(tensor: Tensor) -> bytes:
    return tensor.detach().cpu().to(torch.uint8).numpy().tobytes()

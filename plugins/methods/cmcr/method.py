"""`cmcr`: C-MCR (Wang et al., "Connecting Multi-modal Contrastive Representations", NeurIPS 2023,
arXiv:2305.14381; inference code MCR-PEFT/C-MCR).

Two frozen contrastive models, CLIP (image-text) and CLAP (audio-text), are connected through the
modality they share, text, without any audio-visual pair: a projector per model (Head_B on CLIP,
Head_A on CLAP, `projector.py`) maps both into a new space, trained on

- inter-MCR alignment: symmetric InfoNCE (temperature `tau`) between the projected CLIP and CLAP
  embeddings of the same caption, and between the projected image and audio embeddings that
  caption retrieves from each model's memory (semantic enhancement, `losses.retrieve`);
- intra-MCR alignment (weight `intra_weight`): the L2 distance between a projected text and its
  projected retrieved image inside CLIP, and its retrieved audio inside CLAP;
- semantic enhancement: memory retrieval (`tau_mem`) and Gaussian noise (`sigma`) on every
  embedding before projection, re-normalised.

Efficiency: the trunks are frozen, so the corpus is encoded once (the CLIP and CLAP embeddings of
every caption, the image memory and the audio memory, and the retrieved embeddings follow from
them) and cached in the artifact cache under `cmcr/`, keyed by both trunks and the corpus data
(`embeddings.py`); only the heads train, on those cached embeddings (`training.py`). Frames and
audio are read in blocks of clips and every embedding lives in a .npy file read by rows (no memory
maps: their touched pages would count as resident), so pretraining takes memory flat in the corpus
size (plugin API 3; only training a synthetic trunk, once before it is cached, takes its pairs from
half the corpus in memory, and retrieval holds one memory's embeddings, `training.py`). Which data
each part sees is `data.py` (the image memory and the audio memory come from disjoint halves of
the corpus; `state().extra` records their clip ids).

Deviation for the benchmark's [B, T, D] contract: C-MCR embeds whole images and whole (10 s, 48
kHz) audio files; here every one-second segment is embedded, its frame through CLIP and its second
of audio through CLAP (resampled to the CLAP feature extractor's rate), giving T embeddings per clip.

Saved method (`save` / `load`): `tensors.safetensors` holds the heads (`heads.Head_A.*`,
`heads.Head_B.*`, the official key names under a `heads.` prefix), `state.json` their widths, the
loss history, the memories' clip ids and which trunks were used, and `clip/` and `clap/` the
frozen trunks as `save_pretrained` writes them, so `load` needs neither the cache nor the corpus.
"""
from __future__ import annotations

import hashlib
from pathlib import Path
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import Tensor

from avtbench.api import Batch, Clips, Method, MethodState, Progress, UserError, saved_part
from avtbench.backbones.clap import load_clap
from avtbench.backbones.clip import load_clip
from avtbench.backbones.loading import SYNTH_CLAP, SYNTH_CLIP, save_pretrained
from avtbench.backbones.synthetic import synth_key
from avtbench.data.blocks import fingerprint as stream_fingerprint
from avtbench.toolkit import epoch_stats, seeded_rng, synthetic_clap_recipe, synthetic_clip_recipe

from . import CARD
from . import data as corpus_data
from .config import SAMPLE_RATE, CMCRConfig
from .embeddings import backbone_identity, corpus_embeddings
from .losses import add_noise, info_nce, intra_l2
from .projector import Heads, load_official_heads
from .training import fit_heads, training_inputs
from .trunks import FrozenClap, FrozenClip, segments

CLIP_FOLDER = "clip"
CLAP_FOLDER = "clap"


class CMCR(Method):
    card = CARD
    config_class = CMCRConfig
    corpus = "corpus"
    input_level = "raw"
    plugin_api = "3"

    def __init__(self, config: CMCRConfig, device: str = "cpu", seed: int = 0, cache_dir: Path | None = None) -> None:
        super().__init__(config, device, seed, cache_dir)
        self.clip: FrozenClip | None = None
        self.clap: FrozenClap | None = None
        self.heads: Heads | None = None
        self.history: dict[str, list[float]] = {}
        self.provenance: dict[str, Any] = {}
        """What `state().extra` carries besides the heads' widths and the history (trunks, memories, source)."""

    @classmethod
    def validate(cls, config: CMCRConfig) -> None:
        for setting, name, synth in (("clip", config.clip, SYNTH_CLIP), ("clap", config.clap, SYNTH_CLAP)):
            if not str(name).strip():
                raise UserError(f"cmcr.{setting} is empty; pass a Hugging Face id, a local folder or {synth}")
            if name.startswith("synth://") and name != synth:
                raise UserError(f"cmcr.{setting} {name!r} is no synthetic backbone; the synthetic one is {synth}")
        if config.synth_clap_hidden % 2:
            raise UserError(f"cmcr.synth_clap_hidden must be even (its audio patch width is half of it), "
                            f"got {config.synth_clap_hidden}")
        if config.heads:
            if not config.connect:
                raise UserError("cmcr.heads is set but cmcr.connect=false uses no heads; drop one of the two settings")
            if not Path(config.heads).expanduser().is_file():
                raise UserError(f"cmcr.heads: there is no file {config.heads}; pass C-MCR's projector file "
                                "(checkpoints/clap_clip.pt of MCR-PEFT/C-MCR) or leave cmcr.heads empty to train the heads")

    # ------------------------------------------------------------------ pretraining

    def pretrain(self, corpus: Clips, workdir: Path, progress: Progress) -> dict[str, float]:
        cfg = self.config
        self.validate(cfg)
        audio, visual = self._raw_corpus(corpus)
        with seeded_rng(self.seed, self.device):
            self.clip, clip_record = self._load_clip(corpus, visual)
            self.clap, clap_record = self._load_clap(corpus, audio)
            self.provenance = {"clip": clip_record, "clap": clap_record, "connect": cfg.connect}
            self.history = {}
            if not cfg.connect:
                self._check_unconnected_widths()
                self.heads, self.provenance["heads"] = None, "none"
                return {"trained": 0.0, "dim": float(self.clip.dim)}
            if cfg.heads:
                self.heads, _ = load_official_heads(cfg.heads, self.clap.dim, self.clip.dim, cfg.dim)
                self.heads = self.heads.to(self.device).eval()
                self.provenance["heads"] = {"file": str(Path(cfg.heads).expanduser()), "sha256": _file_sha256(cfg.heads)}
                return {"trained": 0.0, "dim": float(self.heads.dim)}
            found = corpus_data.memories(corpus, visual.shape[1])
            texts = corpus_data.text_corpus(corpus)
            if len(texts) < 2:
                raise UserError("cmcr connects CLIP and CLAP through text: the corpus needs at least 2 distinct captions")
            embedded = self._corpus_embeddings(texts, found, audio, visual, progress)
            self.provenance["heads"] = "trained"
            self.provenance["memory"] = {"image_clips": [corpus.ids[i] for i in found.image_rows],
                                     "audio_clips": [corpus.ids[i] for i in found.audio_rows],
                                     "image_entries": int(embedded["image_memory"].shape[0]),
                                     "audio_entries": int(embedded["audio_memory"].shape[0])}
            self.provenance["texts"] = len(texts)
            self.heads = Heads(self.clap.dim, self.clip.dim, cfg.dim or self.clip.dim, cfg.expansion).to(self.device)
            self.heads.init_weights(cfg.init)
            stats = self._train(embedded, workdir, progress)
        self.heads.eval()
        return stats

    def _raw_corpus(self, corpus: Clips) -> tuple[Any, Any]:
        if not corpus.has("audio") or not corpus.has("visual"):
            raise UserError("cmcr reads the corpus's raw audio and frames (its memories and the synthetic trunks); "
                            "the corpus has no raw audio or visual")
        audio, visual = corpus.audio, corpus.visual
        if audio.ndim != 2 or visual.ndim != 5 or visual.shape[-1] != 3:
            raise UserError(f"cmcr takes raw clips (audio [N, T*{SAMPLE_RATE}], frames [N, T, S, S, 3]); got audio "
                            f"{audio.shape} and visual {visual.shape}: load the corpus at the raw level")
        if audio.shape[1] % SAMPLE_RATE or audio.shape[1] // SAMPLE_RATE != visual.shape[1] or len(corpus) < 2:
            raise UserError(f"cmcr needs >= 2 clips whose audio seconds match their frames; got {len(corpus)} clips, "
                            f"{audio.shape[1] / SAMPLE_RATE:g} s of audio and {visual.shape[1]} frames each")
        if not corpus.caption_lists():
            raise UserError("cmcr connects CLIP and CLAP through text, but the corpus has no captions")
        return audio, visual

    # ------------------------------------------------------------------ trunks

    def _load_clip(self, corpus: Clips, visual: Any) -> tuple[FrozenClip, dict[str, Any]]:
        cfg = self.config
        words = corpus_data.vocabulary(corpus)
        if cfg.clip == SYNTH_CLIP:
            pairs = corpus_data.clip_pairs(corpus, visual)
            recipe, fingerprint = synthetic_clip_recipe(cfg), stream_fingerprint(*pairs)
            model, tokenizer, preprocess = load_clip(cfg.clip, self.cache_dir, train_pairs=_in_memory(pairs),
                                                     fingerprint=fingerprint, config=recipe, vocabulary=words,
                                                     setting="cmcr.clip")
            record = {"name": cfg.clip, "key": synth_key("clip", recipe, fingerprint, words),
                      "trained_on": f"{len(pairs[1])} captions of the first {len(corpus_data.half_rows(len(corpus), 'first'))} "
                                    "corpus clips with each clip's middle frame"}
        else:
            model, tokenizer, preprocess = load_clip(cfg.clip, self.cache_dir, setting="cmcr.clip")
            record = {"name": cfg.clip, "key": backbone_identity(cfg.clip)}
        trunk = FrozenClip(model, tokenizer, preprocess, self.device)
        record["dim"] = trunk.dim
        return trunk, record

    def _load_clap(self, corpus: Clips, audio: Any) -> tuple[FrozenClap, dict[str, Any]]:
        cfg = self.config
        words = corpus_data.vocabulary(corpus)
        if cfg.clap == SYNTH_CLAP:
            pairs = corpus_data.clap_pairs(corpus, audio)
            recipe, fingerprint = synthetic_clap_recipe(cfg), stream_fingerprint(*pairs)
            model, tokenizer, preprocess = load_clap(cfg.clap, self.cache_dir, train_pairs=_in_memory(pairs),
                                                     fingerprint=fingerprint, config=recipe, vocabulary=words,
                                                     setting="cmcr.clap", input_rate=SAMPLE_RATE)
            record = {"name": cfg.clap, "key": synth_key("clap", recipe, fingerprint, words),
                      "trained_on": f"{len(pairs[1])} captions of the last {len(corpus_data.half_rows(len(corpus), 'second'))} "
                                    "corpus clips with each clip's middle second of audio"}
        else:
            model, tokenizer, preprocess = load_clap(cfg.clap, self.cache_dir, setting="cmcr.clap", input_rate=SAMPLE_RATE)
            record = {"name": cfg.clap, "key": backbone_identity(cfg.clap)}
        trunk = FrozenClap(model, tokenizer, preprocess, self.device)
        record["dim"] = trunk.dim
        return trunk, record

    def _check_unconnected_widths(self) -> None:
        clip, clap = self._trunks()
        if clip.dim != clap.dim:
            raise UserError(f"cmcr.connect=false compares CLIP's {clip.dim}-d and CLAP's {clap.dim}-d embeddings as they "
                            "are, which needs equal widths; pick trunks of one width or set cmcr.connect=true")

    # ------------------------------------------------------------------ corpus embeddings (cached)

    def _corpus_embeddings(self, texts: list[str], found: corpus_data.Memories, audio: Any, visual: Any,
                           progress: Progress) -> dict[str, Any]:
        """The corpus embeddings (`embeddings.corpus_embeddings`), lazy arrays over their files;
        records whether they came from the cache."""
        clip, clap = self._trunks()
        embedded, source = corpus_embeddings(clip, clap, (self.provenance["clip"]["key"], self.provenance["clap"]["key"]),
                                             texts, found, audio, visual, cache_dir=self.cache_dir,
                                             chunk=self.config.encode_batch, progress=progress)
        self.provenance["embeddings"] = source
        return embedded

    # ------------------------------------------------------------------ training the heads

    def _train(self, embedded: dict[str, Any], workdir: Path, progress: Progress) -> dict[str, float]:
        assert self.heads is not None
        inputs = training_inputs(embedded, self.config, workdir, self.device)
        self.history = fit_heads(self.heads, self.losses, inputs, self.config, self.seed, self.device, progress)
        stats = {k: v[-1] for k, v in self.history.items() if v}
        stats.update(epoch_stats(self.history))
        stats.update(texts=float(len(inputs["clip_text"])), image_memory=float(embedded["image_memory"].shape[0]),
                     audio_memory=float(embedded["audio_memory"].shape[0]))
        return stats

    def losses(self, batch: dict[str, Tensor], generator: torch.Generator | None = None) -> dict[str, Tensor]:
        """The loss terms of one batch of (noised) embeddings: `clip_text`, `clap_text` and, with
        semantic enhancement, the retrieved `image` and `audio`. Each head sees its text and retrieved
        rows in one batch, so its BatchNorm normalises both modalities with shared statistics (ours)."""
        cfg, heads = self.config, self.heads
        assert heads is not None
        sigma = cfg.sigma if cfg.noise else 0.0
        noised = {k: add_noise(v, sigma, generator) for k, v in batch.items()}
        b = len(noised["clip_text"])
        if "image" not in noised:
            text_b, text_a = heads.Head_B(noised["clip_text"]), heads.Head_A(noised["clap_text"])
            inter_text = info_nce(text_b, text_a, cfg.tau)
            return {"loss": inter_text, "inter_text": inter_text}
        out_b = heads.Head_B(torch.cat([noised["clip_text"], noised["image"]]))
        out_a = heads.Head_A(torch.cat([noised["clap_text"], noised["audio"]]))
        text_b, image_b = out_b[:b], out_b[b:]
        text_a, audio_a = out_a[:b], out_a[b:]
        inter_text = info_nce(text_b, text_a, cfg.tau)
        inter_pseudo = info_nce(image_b, audio_a, cfg.tau)
        intra = intra_l2((text_b, image_b), (text_a, audio_a))
        loss = inter_text + inter_pseudo + cfg.intra_weight * intra if cfg.intra_weight > 0 else inter_text + inter_pseudo
        return {"loss": loss, "inter_text": inter_text, "inter_pseudo": inter_pseudo, "intra": intra}

    # ------------------------------------------------------------------ encoding

    def _trunks(self) -> tuple[FrozenClip, FrozenClap]:
        if self.clip is None or self.clap is None:
            raise RuntimeError("cmcr is not pretrained: call pretrain or load first")
        return self.clip, self.clap

    def project(self, side: str, embeddings: Tensor) -> Tensor:
        """Trunk embeddings of `side` ("clip" or "clap") into the connected space (as they are without heads)."""
        if self.heads is None:
            return embeddings
        self.heads.eval()
        return self.heads.side(side)(embeddings.to(self.device))

    @torch.no_grad()
    def encode(self, modality: str, batch: Batch) -> Tensor:
        """audio [B, T*16000] -> [B, T, D] (each second through CLAP, then Head_A); visual uint8
        [B, T, S, S, 3] -> [B, T, D] (each frame through CLIP, then Head_B); text: B captions ->
        [B, 1, D] through the `text_side` tower and its head. L2-normalised."""
        clip, clap = self._trunks()
        chunk = self.config.encode_batch
        if modality == "text":
            side = self.config.text_side
            trunk = clip if side == "clip" else clap
            return self.project(side, trunk.texts([str(c) for c in batch], chunk=chunk)).unsqueeze(1)
        x = torch.as_tensor(batch)
        if modality == "visual":
            if x.dim() != 5 or x.shape[-1] != 3:
                raise UserError(f"cmcr encodes raw frames [B, T, S, S, 3], got shape {tuple(x.shape)}")
            flat = x.reshape(-1, *x.shape[2:])
            out = torch.cat([self.project("clip", clip.images(flat[s:s + chunk], chunk=chunk))
                             for s in range(0, flat.shape[0], chunk)])
            return out.reshape(x.shape[0], x.shape[1], -1)
        if modality == "audio":
            windows = segments(x.float())
            out = torch.cat([self.project("clap", clap.audio(windows[s:s + chunk], chunk=chunk))
                             for s in range(0, windows.shape[0], chunk)])
            return out.reshape(x.shape[0], windows.shape[0] // max(x.shape[0], 1), -1)
        raise UserError(f"cmcr encodes audio, visual and text, not {modality!r}")

    def encode_batch_size(self) -> int:
        return 32

    # ------------------------------------------------------------------ state

    def state(self) -> MethodState:
        """Tensors: the heads (`heads.Head_A.*`, `heads.Head_B.*`; none without connection). Extra: the
        heads' widths, the loss history, the memories' clip ids and the trunks. `save` adds the trunks."""
        clip, clap = self._trunks()
        tensors, widths = {}, None
        if self.heads is not None:
            tensors = {f"heads.{k}": v.detach().cpu() for k, v in self.heads.state_dict().items()}
            widths = {"clap_dim": self.heads.Head_A.dims[0], "clip_dim": self.heads.Head_B.dims[0],
                      "hidden_a": self.heads.Head_A.dims[1], "hidden_b": self.heads.Head_B.dims[1], "dim": self.heads.dim}
        extra = {"heads_widths": widths, "history": {k: list(v) for k, v in self.history.items()},
                 **{k: v for k, v in self.provenance.items() if k not in ("heads_widths", "history")}}
        extra.setdefault("clip", {"name": self.config.clip, "dim": clip.dim})
        extra.setdefault("clap", {"name": self.config.clap, "dim": clap.dim})
        return MethodState(tensors, extra)

    def load_state(self, state: MethodState) -> None:
        """Restore the heads on top of the trunks this instance already holds (after `pretrain`, or as
        `load` does after reading the saved trunks back)."""
        clip, clap = self._trunks()
        widths = state.extra.get("heads_widths", "missing")
        if widths == "missing" or "history" not in state.extra:
            raise UserError("this saved state is not a cmcr one (it records no heads); pretrain again")
        if (widths is None) != (not self.config.connect):
            raise UserError(f"this saved cmcr was pretrained with connect={widths is not None}, but the configuration "
                            f"asks for connect={self.config.connect}; pretrain again")
        self.heads = None
        if widths is not None:
            if (widths["clap_dim"], widths["clip_dim"]) != (clap.dim, clip.dim):
                raise UserError(f"this saved cmcr's heads take {widths['clap_dim']}-d CLAP and {widths['clip_dim']}-d CLIP "
                                f"embeddings, but its trunks give {clap.dim}-d and {clip.dim}-d; pretrain again")
            heads = Heads(widths["clap_dim"], widths["clip_dim"], widths["dim"], hidden=(widths["hidden_a"], widths["hidden_b"]))
            heads.load_state_dict({k[len("heads."):]: v for k, v in state.tensors.items() if k.startswith("heads.")})
            self.heads = heads.to(self.device).eval()
        self.history = {k: [float(x) for x in v] for k, v in state.extra.get("history", {}).items()}
        self.provenance = {k: v for k, v in state.extra.items() if k not in ("heads_widths", "history")}

    def save(self, directory: Path) -> None:
        clip, clap = self._trunks()
        super().save(directory)
        save_pretrained(Path(directory) / CLIP_FOLDER, clip.model, clip.tokenizer, clip.preprocess.processor)
        save_pretrained(Path(directory) / CLAP_FOLDER, clap.model, clap.tokenizer, clap.preprocess.processor)

    def load(self, directory: Path) -> None:
        directory = Path(directory)
        state = MethodState.load(directory)  # a missing or broken backbone folder is a DamagedArtifact below
        with saved_part(f"the CLIP folder of the saved cmcr in {directory}"):
            model, tokenizer, preprocess = load_clip(str(directory / CLIP_FOLDER), self.cache_dir, setting="cmcr.clip")
        self.clip = FrozenClip(model, tokenizer, preprocess, self.device)
        with saved_part(f"the CLAP folder of the saved cmcr in {directory}"):
            model, tokenizer, preprocess = load_clap(str(directory / CLAP_FOLDER), self.cache_dir, setting="cmcr.clap",
                                                     input_rate=SAMPLE_RATE)
        self.clap = FrozenClap(model, tokenizer, preprocess, self.device)
        self.load_state(state)


def _in_memory(pairs: tuple[Any, list[str]]) -> Callable[[], tuple[np.ndarray, list[str]]]:
    """The pairs a synthetic trunk is trained on, read whole: only when the trunk is not cached yet
    (the core's trainer takes its pairs in memory; they come from half of the corpus)."""
    return lambda: (np.asarray(pairs[0]), pairs[1])


def _file_sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(Path(path).expanduser(), "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


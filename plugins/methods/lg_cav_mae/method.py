"""`lg_cav_mae`: LG-CAV-MAE (Ishikawa et al., "Language-Guided Contrastive Audio-Visual Masked
Autoencoder with Automatically Generated Audio-Visual-Text Triplets from Videos", Interspeech 2025).

CAV-MAE (`model.py`) trained with reconstruction and audio-visual contrast, plus audio-text and
visual-text InfoNCE against a frozen CLAP text tower through a two-layer MLP (`text.py`), on
triplets generated from the corpus by captioning frames and filtering by CLAP score
(`triplets.py`). `text_guidance=false` is plain CAV-MAE.

Deviation for the benchmark's [B, T, D] contract: CAV-MAE embeds a 10 s clip (1024 FBANK frames)
with one frame; here every one-second segment is one input pair, its audio window (`window_seconds`,
1 s by default; 10 s padded to 1024 frames in the `paper` preset) with its own frame, so `encode`
returns one embedding per segment. Which space `encode` serves is `embedding_space` (config.py):
by default audio and visual return both CAV-MAE's embedding and its text-space projection (each
half L2-normalised), and captions fill the text half, so audio-visual and text tasks run on one
checkpoint.

Pretraining streams the corpus (plugin API 3): the triplet step reads it in blocks of clips
(`triplets.py`), training reads each batch's clips through the DataLoader (`training.py`), and the
kept captions' CLAP embeddings wait in a .npy file in the pretraining's `workdir`, read by the
rows each batch needs (`avtbench.data.npyfile`; not a memory map, whose touched pages stay resident).

Saved method: `tensors.safetensors` (`model.*`, `head.*`), `state.json` (sizes, loss history, the
backbones and the triplets used), and with text guidance `clap/`, the frozen CLAP as
`save_pretrained` writes it, so `load` needs neither the cache nor the corpus.

Released checkpoints: `--set lg_cav_mae.checkpoint=cav-mae-scale++.pth` (with `preset=paper` and
`text_guidance=false`) evaluates CAV-MAE's own pretrained model without pretraining (`released.py`).
"""
from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from avtbench.api import Batch, Clips, DamagedArtifact, Method, MethodState, Progress, UserError, saved_part
from avtbench.backbones.clap import load_clap
from avtbench.backbones.contrastive import caption_groups
from avtbench.backbones.loading import SYNTH_CLAP, save_pretrained
from avtbench.data.npyfile import NpyRows, NpyWriter, decoded_copy
from avtbench.toolkit import epoch_stats, seeded_rng

from . import CARD
from . import triplets
from .config import SAMPLE_RATE, SYNTH_CAPTIONER, LGCavMaeConfig
from .frontend import fbank_inputs, frame_inputs, segment_count, segment_windows
from .model import CavMae, CavMaeSizes
from .released import load_cav_mae
from .text import FrozenClap, TextHead
from .training import TERMS, TextTargets, train

CLAP_FOLDER = "clap"
TEXT_CHUNK = 512
"""Captions per pass of CLAP's text tower (`FrozenClap.texts`' own chunk)."""


def sizes_of(config: LGCavMaeConfig) -> CavMaeSizes:
    return CavMaeSizes(audio_frames=config.audio_frames, mel_bins=config.num_mel_bins, image_size=config.image_size,
                       width=config.width, specific_depth=config.specific_depth, shared_depth=config.shared_depth,
                       heads=config.heads, decoder_width=config.decoder_width, decoder_depth=config.decoder_depth,
                       decoder_heads=config.decoder_heads, mlp_ratio=config.mlp_ratio,
                       visual_patch=config.visual_patch)


class LGCavMae(Method):
    card = CARD
    config_class = LGCavMaeConfig
    corpus = "corpus"
    input_level = "raw"
    plugin_api = "3"

    def __init__(self, config: LGCavMaeConfig, device: str = "cpu", seed: int = 0, cache_dir: Path | None = None) -> None:
        super().__init__(config, device, seed, cache_dir)
        self.model: CavMae | None = None
        self.head: TextHead | None = None
        self.clap: FrozenClap | None = None
        self.provenance: dict[str, Any] = {}
        self.history: dict[str, list[float]] = {}

    @classmethod
    def validate(cls, config: LGCavMaeConfig) -> None:
        for setting, name, synth in (("clap", config.clap, SYNTH_CLAP), ("captioner", config.captioner, SYNTH_CAPTIONER)):
            if not str(name).strip():
                raise UserError(f"lg_cav_mae.{setting} is empty; pass a Hugging Face id, a local folder or {synth}")
            if name.startswith("synth://") and name != synth:
                raise UserError(f"lg_cav_mae.{setting} {name!r} is no synthetic backbone; the synthetic one is {synth}")
            local = Path(name).expanduser()
            if name.startswith(("/", ".", "~")) and not local.exists():
                raise UserError(f"lg_cav_mae.{setting}: there is no folder {name}; pass a folder written by "
                                f"save_pretrained or {synth}")
        for setting in ("audio_frames", "num_mel_bins"):
            if getattr(config, setting) % 16:
                raise UserError(f"lg_cav_mae.{setting} must be a multiple of 16 (the patch size), got {getattr(config, setting)}")
        if config.image_size % config.visual_patch:
            raise UserError(f"lg_cav_mae.image_size must be a multiple of visual_patch {config.visual_patch}, "
                            f"got {config.image_size}")
        for prefix in ("", "decoder_"):
            width, heads = getattr(config, f"{prefix}width"), getattr(config, f"{prefix}heads")
            if width % heads or width % 4:
                raise UserError(f"lg_cav_mae.{prefix}width {width} must be divisible by 4 and by {prefix}heads {heads}")
        if config.checkpoint and config.text_guidance:
            raise UserError("lg_cav_mae.checkpoint names a CAV-MAE checkpoint, which holds no text MLP: "
                            "set lg_cav_mae.text_guidance=false to evaluate it")
        if not config.text_guidance and config.embedding_space in ("text", "concat"):
            raise UserError(f"lg_cav_mae.embedding_space={config.embedding_space} needs the text MLP, which "
                            "text_guidance=false does not train; use embedding_space=av or auto")

    @classmethod
    def modalities_for(cls, config: LGCavMaeConfig) -> tuple[str, ...]:
        return ("audio", "visual", "text") if config.space() != "av" else ("audio", "visual")

    @classmethod
    def released_checkpoint(cls, config: LGCavMaeConfig) -> str | None:
        return config.checkpoint or None

    def load_released(self, path: Path) -> dict[str, float]:
        """CAV-MAE's released pretrained model (with its decoder), strictly mapped (`released.py`)."""
        self.validate(self.config)
        model = CavMae(sizes_of(self.config))
        count = load_cav_mae(Path(path), model)
        self.model, self.head, self.clap = model.to(self.device).eval(), None, None
        self.history, self.provenance = {}, {"text_guidance": False, "released": str(path)}
        return {"released_tensors": float(count)}

    # ------------------------------------------------------------------ pretraining

    def pretrain(self, corpus: Clips, workdir: Path, progress: Progress) -> dict[str, float]:
        cfg = self.config
        self.validate(cfg)
        audio, visual = self._raw_corpus(corpus)
        started = time.perf_counter()
        text, rows = TextTargets.none(len(corpus)), np.arange(len(corpus))
        self.provenance = {"text_guidance": cfg.text_guidance}
        if cfg.text_guidance:
            generated = triplets.generate(corpus, cfg, self.cache_dir, self.device, progress)
            self.clap = generated.clap
            text, kept_rows = self._text_targets(corpus, generated.triplets, workdir)
            if cfg.pretrain_on == "triplets":
                if len(kept_rows) < 2:
                    raise UserError(f"lg_cav_mae.pretrain_on=triplets, but only {len(kept_rows)} triplet(s) were kept; "
                                    "raise lg_cav_mae.keep or set lg_cav_mae.pretrain_on=corpus")
                rows = kept_rows
            self.provenance.update(clap=generated.clap_provenance, captioner=generated.triplets.provenance["captioner"],
                               triplets={k: generated.triplets.provenance[k] for k in ("key", "keep", "filter", "captioned", "kept")})
        triplet_seconds = time.perf_counter() - started
        # every epoch reads the clips again: decode their wav / png files once, into .npy files read by rows
        audio, visual = (decoded_copy(array, Path(workdir) / f"decoded.{name}.npy") for name, array in
                         (("audio", audio), ("visual", visual)))
        with seeded_rng(self.seed, self.device):
            self.model = CavMae(sizes_of(cfg)).to(self.device)
            self.head = self._new_head() if cfg.text_guidance else None
            history = train(self.model, self.head, audio, visual, rows, text, cfg, self.device, self.seed, progress)
        self.history = history.per_epoch
        stats = {k: v[-1] for k, v in self.history.items() if v}
        stats.update(epoch_stats(self.history))
        stats.update(triplet_seconds=triplet_seconds, trained_clips=float(len(rows)),
                     triplets=float(self.provenance.get("triplets", {}).get("kept", 0)))
        return stats

    def _raw_corpus(self, corpus: Clips) -> tuple[Any, Any]:
        """The corpus's raw audio and frames as they are (lazy arrays stay lazy), their shapes checked."""
        if not corpus.has("audio") or not corpus.has("visual"):
            raise UserError("lg_cav_mae pretrains on raw audio with its frames; the corpus has no raw audio or visual")
        audio, visual = corpus.audio, corpus.visual
        if audio.ndim != 2 or visual.ndim != 5 or visual.shape[-1] != 3:
            raise UserError(f"lg_cav_mae takes raw clips (audio [N, T*{SAMPLE_RATE}], frames [N, T, S, S, 3]); got audio "
                            f"{audio.shape} and visual {visual.shape}: load the corpus at the raw level")
        if segment_count(audio.shape[1]) != visual.shape[1] or len(corpus) < 2:
            raise UserError(f"lg_cav_mae needs >= 2 clips whose audio seconds match their frames; got {len(corpus)} clips, "
                            f"{audio.shape[1] / SAMPLE_RATE:g} s of audio and {visual.shape[1]} frames each")
        return audio, visual

    def _text_targets(self, corpus: Clips, kept: triplets.TripletSet, workdir: Path) -> tuple[TextTargets, np.ndarray]:
        """Per corpus row the index of its kept caption, whose CLAP text embeddings wait in a .npy file
        in `workdir` (read by the rows each batch needs); and the kept rows."""
        assert self.clap is not None
        row_of = {clip: i for i, clip in enumerate(corpus.ids)}
        rows = np.array([row_of[clip] for clip in kept.ids], dtype=np.int64)
        index = np.full(len(corpus), -1, dtype=np.int64)
        index[rows] = np.arange(len(rows))
        path = Path(workdir) / "lg_cav_mae_captions.npy"
        with NpyWriter(path, (len(kept.captions), self.clap.dim)) as out:
            for start in range(0, len(kept.captions), TEXT_CHUNK):
                out.write(start, self.clap.texts(kept.captions[start:start + TEXT_CHUNK]).cpu().numpy())
        embeddings = NpyRows(path)
        return TextTargets(index, embeddings, caption_groups(kept.captions)), np.sort(rows)

    def _new_head(self) -> TextHead:
        assert self.clap is not None
        cfg = self.config
        return TextHead(cfg.width, self.clap.dim, cfg.text_hidden or cfg.width, cfg.text_mlp == "shared").to(self.device)

    # ------------------------------------------------------------------ encoding

    @torch.no_grad()
    def encode(self, modality: str, batch: Batch) -> Tensor:
        """audio [B, T*16000] / visual uint8 [B, T, S, S, 3] -> [B, T, D]; text: B captions -> [B, 1, D]."""
        if self.model is None:
            raise RuntimeError("lg_cav_mae is not pretrained: call pretrain or load first")
        space = self.config.space()
        if modality == "text":
            if space == "av" or self.clap is None:
                raise UserError("lg_cav_mae encodes text only with text guidance and embedding_space text, concat or "
                                "auto; set lg_cav_mae.text_guidance=true")
            texts = self.clap.texts([str(c) for c in batch])
            if space == "concat":
                texts = torch.cat([texts.new_zeros(len(texts), self.config.width), texts], dim=1)
            return texts.unsqueeze(1)
        if modality not in ("audio", "visual"):
            raise UserError(f"lg_cav_mae encodes audio, visual and text, not {modality!r}")
        x = torch.as_tensor(batch)
        steps, embedded = self._embed(modality, x)
        return self._in_space(embedded, modality).reshape(x.shape[0], steps, -1)

    def _embed(self, modality: str, x: Tensor) -> tuple[int, Tensor]:
        model, cfg, out = self.model, self.config, []
        assert model is not None
        model.eval()
        if modality == "audio":
            windows = segment_windows(x.float().cpu(), cfg)
            steps = segment_count(x.shape[1])
            for s in range(0, windows.shape[0], cfg.encode_batch):
                out.append(model.embed(fbank=fbank_inputs(windows[s:s + cfg.encode_batch], cfg).to(self.device))[0])
        else:
            if x.dim() != 5:
                raise UserError(f"lg_cav_mae encodes raw frames [B, T, S, S, 3], got shape {tuple(x.shape)}")
            steps, frames = x.shape[1], x.reshape(-1, *x.shape[2:]).cpu()
            for s in range(0, frames.shape[0], cfg.encode_batch):
                out.append(model.embed(images=frame_inputs(frames[s:s + cfg.encode_batch], cfg.image_size, cfg.frame_resize).to(self.device))[1])
        return steps, torch.cat(out)

    def _in_space(self, embedded: Tensor, modality: str) -> Tensor:
        space = self.config.space()
        av = F.normalize(embedded, dim=-1)
        if space == "av":
            return av
        assert self.head is not None
        projected = F.normalize(self.head(embedded, modality), dim=-1)
        return projected if space == "text" else torch.cat([av, projected], dim=-1) / math.sqrt(2)

    def encode_batch_size(self) -> int:
        return 32

    # ------------------------------------------------------------------ state

    def state(self) -> MethodState:
        if self.model is None:
            raise RuntimeError("lg_cav_mae is not pretrained: call pretrain or load first")
        tensors = {f"model.{k}": v for k, v in self.model.state_dict().items()}
        if self.head is not None:
            tensors.update({f"head.{k}": v for k, v in self.head.state_dict().items()})
        extra = {"sizes": vars(sizes_of(self.config)), "history": self.history, "record": self.provenance,
                 "text_dim": self.clap.dim if self.clap is not None else 0, "space": self.config.space()}
        return MethodState(tensors, extra)

    def load_state(self, state: MethodState) -> None:
        """Restore the model (and the text MLP on top of the CLAP this instance holds)."""
        saved = state.extra.get("sizes")
        if saved != vars(sizes_of(self.config)):
            raise UserError("this saved lg_cav_mae has other model sizes than the configuration asks for "
                            f"({saved} vs {vars(sizes_of(self.config))}); pretrain again")
        model = CavMae(sizes_of(self.config))
        model.load_state_dict({k[len("model."):]: v for k, v in state.tensors.items() if k.startswith("model.")})
        self.model = model.to(self.device).eval()
        head_tensors = {k[len("head."):]: v for k, v in state.tensors.items() if k.startswith("head.")}
        self.head = None
        if head_tensors:
            if self.clap is None:
                raise RuntimeError("lg_cav_mae.load_state needs its CLAP first: use load(directory), which reads it back")
            self.head = self._new_head()
            self.head.load_state_dict(head_tensors)
            self.head.eval()
        self.history = {k: [float(x) for x in v] for k, v in state.extra.get("history", {}).items() if k in TERMS}
        self.provenance = dict(state.extra.get("record", {}))

    def save(self, directory: Path) -> None:
        super().save(directory)
        if self.clap is not None:
            save_pretrained(Path(directory) / CLAP_FOLDER, self.clap.model, self.clap.tokenizer, self.clap.preprocess.processor)

    def load(self, directory: Path) -> None:
        directory = Path(directory)
        state = MethodState.load(directory)
        folder = directory / CLAP_FOLDER
        self.clap = None
        if any(k.startswith("head.") for k in state.tensors):
            if not (folder / "config.json").is_file():
                raise DamagedArtifact(f"saved lg_cav_mae in {directory} holds no CLAP folder; delete it to retrain")
            with saved_part(f"the CLAP folder of the saved lg_cav_mae in {directory}"):
                model, tokenizer, preprocess = load_clap(str(folder), self.cache_dir, setting="lg_cav_mae.clap",
                                                         input_rate=SAMPLE_RATE)
            self.clap = FrozenClap(model, tokenizer, preprocess, self.device)
        self.load_state(state)

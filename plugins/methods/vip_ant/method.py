"""`vip_ant`: VIP-ANT (Zhao et al., "Connecting the Dots between Audio and Text without Parallel
Data through Visual Knowledge Transfer", NAACL 2022; reference code zhaoyanpeng/vipant).

Audio is pulled into CLIP's image-text space through images: an audio ViT initialised from CLIP's
image tower is trained so that a segment's audio embedding finds the frozen CLIP embedding of the
frame shown with it (symmetric InfoNCE, both directions summed, learnable temperature); text then
reaches audio through CLIP's frozen text tower without any audio-text pairs. An optional second
stage adds audio-text InfoNCE on captions that CLIP retrieves for the frames (`curation`).

Deviation from the paper, for the benchmark's [B, T, D] contract: VIP-ANT embeds a 10 s AudioSet
clip (1000 FBANK frames, `configs/running/audio/default.yaml:2`) against one random frame of it
(`cvap/data/image_audio.py:146`); here each one-second segment's audio window
(`window_seconds`, 1 s by default; the `paper` preset uses 10 s) is embedded and paired with that
segment's frame, so pretraining sees N x T pairs and `encode` returns one embedding per segment.
The reference's optimiser, LARS with its own warm-up and cosine schedule (`use_lars: True`,
`configs/optimizer/standard.yaml:1`; see `lars.py`), is `optimizer=lars`, the `paper` preset's
(`optimizer.warmup=False` in `bash/run_bimodal_va.sh:26` only gates the warm-up of the non-LARS
branch, `cvap/monitor/cvalp.py:187`, so the LARS warm-up runs); the default is Adam (ours). Not
reproduced: the training-time FBANK masking (`fbank_transforms`, `configs/running/audio/default.yaml:18-21`,
applied at `cvap/data/image_audio.py:205-206`) and mixed precision (`cvap/monitor/cvalp.py:201`).

Saved method (`save` / `load`): `tensors.safetensors` holds the audio ViT and the temperatures,
`state.json` the audio geometry, the loss histories and which CLIP was used, and `clip/` the
frozen CLIP itself as `save_pretrained` writes it (safetensors weights, tokenizer, image
processor), so that `load` rebuilds `encode` through `from_pretrained` with no cache and no
retraining (a synthetic CLIP could not be rebuilt without the corpus).

Released checkpoints: `--set vip_ant.checkpoint=00071478.pth` (with `preset=paper` and `clip` set to
OpenAI's ViT-B/32) evaluates VIP-ANT's own audio encoder without pretraining (`released.py`).
"""
from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from avtbench.api import Batch, Clips, DamagedArtifact, Method, MethodState, Progress, UserError, saved_part
from avtbench.backbones.clip import load_clip
from avtbench.backbones.frozen import FrozenClip
from avtbench.backbones.loading import SYNTH_CLIP, save_pretrained
from avtbench.backbones.preprocess import ImagePreprocess
from avtbench.data.blocks import fingerprint
from avtbench.data.loader import batch_rows, batches
from avtbench.toolkit import epoch_stats, seeded_rng, synthetic_clip_recipe

from . import CARD
from . import curation, sources
from .config import SAMPLE_RATE, VipAntConfig
from .frontend import fbank_images, segment_count, segment_windows
from .lars import Lars, LarsSchedule, lars_groups
from .model import VipAntAudio
from .pairs import PAIR_SOURCES, image_caption_pairs
from .released import load_vip_ant

CLIP_FOLDER = "clip"
"""Where `save` puts the frozen CLIP inside the method's folder."""


class VipAnt(Method):
    card = CARD
    config_class = VipAntConfig
    corpus = "corpus"
    input_level = "raw"
    plugin_api = "3"

    def __init__(self, config: VipAntConfig, device: str = "cpu", seed: int = 0, cache_dir: Path | None = None) -> None:
        super().__init__(config, device, seed, cache_dir)
        self.clip: FrozenClip | None = None
        self.net: VipAntAudio | None = None
        self.history: dict[str, list[float]] = {}
        self.steps_left: int | None = None
        """Optimiser steps pretraining may still take (None: no `max_steps`)."""
        self.schedule: LarsSchedule | None = None
        self.step_index = 0
        """LARS's rate schedule (None with Adam) and the step of the current stage it is at."""

    @classmethod
    def validate(cls, config: VipAntConfig) -> None:
        if config.clip.startswith("synth://") and config.clip != SYNTH_CLIP:
            raise UserError(f"vip_ant.clip {config.clip!r} is no synthetic backbone; the synthetic CLIP is {SYNTH_CLIP}")
        if config.synth_clip_pairs not in PAIR_SOURCES:
            raise UserError(f"vip_ant.synth_clip_pairs must be one of {', '.join(PAIR_SOURCES)}, got {config.synth_clip_pairs!r}")
        if config.checkpoint and config.clip.startswith("synth://"):
            raise UserError("vip_ant.checkpoint is a released VIP-ANT audio encoder, aligned to OpenAI's CLIP: set "
                            "vip_ant.clip to that CLIP (e.g. a folder of openai/clip-vit-base-patch32), not a synthetic one")
        if config.frames < 32 or config.num_mel_bins < 32:
            raise UserError(f"vip_ant needs at least 32 FBANK frames and 32 mel bins for its 32x32 patches; "
                            f"got {config.frames} frames and {config.num_mel_bins} bins")

    @classmethod
    def released_checkpoint(cls, config: VipAntConfig) -> str | None:
        return config.checkpoint or None

    def load_released(self, path: Path) -> dict[str, float]:
        """A released VIP-ANT checkpoint's audio encoder and temperatures (`released.py`) on top of the
        configured CLIP, read without unpickling anything but tensors, containers and its config as data."""
        cfg = self.config
        self.validate(cfg)
        model, tokenizer, preprocess = load_clip(cfg.clip, self.cache_dir, setting="vip_ant.clip")
        self.clip = self._frozen_clip(model, tokenizer, preprocess)
        net = VipAntAudio.from_clip(self.clip.model, cfg)
        stats = load_vip_ant(Path(path), net)
        self.net, self.history = net.to(self.device).eval(), {}
        return stats

    # ------------------------------------------------------------------ pretraining

    def pretrain(self, corpus: Clips, workdir: Path, progress: Progress) -> dict[str, float]:
        """Streams the corpus: frames and audio are read in blocks of clips, and what is derived per
        segment (FBANK, CLIP frame embeddings) or per caption is kept in .npy files in `workdir`,
        read back by rows (`sources.py`)."""
        cfg = self.config
        self.validate(cfg)
        audio, visual = self._raw_corpus(corpus)
        pool = curation.caption_pool(corpus) if cfg.curation != "none" else []
        with seeded_rng(self.seed, self.device):
            self.clip = self._load_clip(corpus, visual)
            self.net = VipAntAudio.from_clip(self.clip.model, cfg).to(self.device)
            data = {"frames": sources.frame_embeddings(self.clip, visual, workdir, progress),
                    "fbank": sources.fbank_source(audio, cfg, workdir, progress)}
            stats = self._train(data, corpus, pool, workdir, progress)
        self.net.eval()
        return stats

    def _raw_corpus(self, corpus: Clips) -> tuple[Any, Any]:
        """The corpus's raw audio and frames as they are (lazy arrays stay lazy), their shapes checked."""
        if not corpus.has("audio") or not corpus.has("visual"):
            raise UserError("vip_ant pretrains on audio with its frames: the corpus needs raw audio and visual")
        audio, visual = corpus.audio, corpus.visual
        if audio.ndim != 2 or visual.ndim != 5 or visual.shape[-1] != 3:
            raise UserError(f"vip_ant takes raw clips (audio [N, T*{SAMPLE_RATE}], frames [N, T, S, S, 3]); got audio "
                            f"{audio.shape} and visual {visual.shape}: load the corpus at the raw level")
        steps = segment_count(audio.shape[1], self.config)
        if steps != visual.shape[1] or len(corpus) < 2:
            raise UserError(f"vip_ant needs >= 2 clips whose audio seconds match their frames; got {len(corpus)} clips, "
                            f"{steps} s of audio and {visual.shape[1]} frames each")
        return audio, visual

    def _load_clip(self, corpus: Clips, visual: Any) -> FrozenClip:
        """The frozen CLIP. A synthetic one is found in the cache by a hash of its pairs read block by
        block; only training it (the core's trainer takes its pairs in memory) reads the pairs whole."""
        cfg = self.config
        pairs = self.clip_pairs(corpus, visual) if cfg.clip == SYNTH_CLIP else None
        model, tokenizer, preprocess = load_clip(
            cfg.clip, self.cache_dir, train_pairs=(lambda: (np.asarray(pairs[0]), pairs[1])) if pairs else None,
            fingerprint=fingerprint(*pairs) if pairs else None, config=synthetic_clip_recipe(cfg),
            vocabulary=self._vocabulary(corpus), setting="vip_ant.clip",
        )
        return self._frozen_clip(model, tokenizer, preprocess)

    def clip_pairs(self, corpus: Clips, visual: Any) -> tuple[Any, list[str]]:
        """The synthetic CLIP's training pairs from the corpus's first half, as `synth_clip_pairs`
        says (see `pairs.py`): clip captions with middle frames, or latent-event captions with the
        frames that show those events. The frames are a lazy view, read when indexed."""
        source = self.config.synth_clip_pairs
        if source == "captions" and not corpus.caption_lists():
            raise UserError("vip_ant with clip=synth://clip trains its CLIP on the corpus captions, but the corpus has "
                            "none; pass a pretrained CLIP: --set vip_ant.clip=/path/to/clip-vit-base-patch32")
        frames, captions = image_caption_pairs(corpus, visual, source)
        if len(captions) < 2:
            raise UserError(f"vip_ant needs at least 2 image-caption pairs (synth_clip_pairs={source}) in the first "
                            "half of the corpus to train synth://clip")
        return frames, captions

    def _frozen_clip(self, model: Any, tokenizer: Any, preprocess: ImagePreprocess) -> FrozenClip:
        """The frozen CLIP, its frames resized as `frame_resize` says."""
        return FrozenClip(model, tokenizer, ImagePreprocess(preprocess.processor, self.config.frame_resize), self.device)

    @staticmethod
    def _vocabulary(corpus: Clips) -> list[str]:
        return [c for clip in corpus.caption_lists() for c in clip]

    def _train(self, data: dict[str, Any], corpus: Clips, pool: list[str], workdir: Path,
               progress: Progress) -> dict[str, float]:
        """The audio-image epochs, then the curation epochs (run when `max_steps` left them steps);
        `max_steps` bounds the steps of both together."""
        cfg, net = self.config, self.net
        assert net is not None and self.clip is not None
        optimizer = self._optimizer(data["frames"].shape[0], cfg.epochs)
        generator = torch.Generator().manual_seed(self.seed)
        self.history = {"loss_va": [], "loss_at": []}
        self.steps_left = cfg.max_steps or None
        stats: dict[str, float] = {}
        for _ in progress.track(range(cfg.epochs), total=cfg.epochs, description="vip_ant audio-image"):
            if self.steps_left == 0:
                break
            stats = self._epoch(data, None, optimizer, generator)
        if cfg.curation != "none" and cfg.curation_epochs > 0 and self.steps_left != 0:
            if cfg.optimizer == "lars":  # the reference's audio-text fine-tuning is a run of its own, schedule and all
                optimizer = self._optimizer(data["frames"].shape[0], cfg.curation_epochs)
            stats = self._curation(data, corpus, pool, workdir, optimizer, generator, progress)
        stats["logit_scale_va"] = float(net.logit_scale_va.detach().exp())
        # the curve: loss_va over every epoch of both stages, loss_at over the curation epochs (the last ones)
        va, at = self.history["loss_va"], self.history["loss_at"]
        stats.update(epoch_stats({"loss_va": va}), **epoch_stats({"loss_at": at}, first_epoch=len(va) - len(at) + 1))
        return stats

    def _optimizer(self, segments: int, epochs: int) -> torch.optim.Optimizer:
        """Adam (ours), or VIP-ANT's LARS with its per-step schedule over `epochs` epochs of `segments` pairs."""
        cfg, net = self.config, self.net
        assert net is not None
        self.schedule, self.step_index = None, 0
        if cfg.optimizer == "adam":
            return torch.optim.Adam(net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
        steps_per_epoch = sum(1 for _ in batch_rows([np.arange(segments)], cfg.batch_size, min_rows=2))
        self.schedule = LarsSchedule(cfg.batch_size, steps_per_epoch, epochs, cfg.warmup_epochs,
                                     cfg.lars_lr_weights, cfg.lars_lr_biases)
        return Lars(lars_groups(net), weight_decay=cfg.weight_decay)

    def _curation(self, data: dict[str, Any], corpus: Clips, pool: list[str], workdir: Path,
                  optimizer: torch.optim.Optimizer, generator: torch.Generator, progress: Progress) -> dict[str, float]:
        """Audio-text epochs on captions the frozen CLIP retrieves for each segment's frame (or random ones)."""
        cfg, clip = self.config, self.clip
        assert clip is not None
        texts = sources.text_embeddings(clip, pool, workdir)
        frames = data["frames"]
        candidates = curation.retrieve(frames, texts, cfg.curation_top_k, self.device)
        stats: dict[str, float] = {}
        for _ in progress.track(range(cfg.curation_epochs), total=cfg.curation_epochs, description="vip_ant curation"):
            if self.steps_left == 0:
                break
            chosen = (curation.draw(candidates, generator) if cfg.curation == "retrieved"
                      else curation.random_captions(len(frames), len(pool), generator))
            stats = self._epoch({**data, "texts": texts.take(chosen.cpu().numpy())}, chosen, optimizer, generator)
        stats["curation_own_caption"] = curation.own_caption_rate(chosen.cpu(), pool, corpus, len(frames) // len(corpus))
        return stats

    def _epoch(self, data: dict[str, Any], chosen: Tensor | None,
               optimizer: torch.optim.Optimizer, generator: torch.Generator) -> dict[str, float]:
        """One pass over the segments in a random order, read batch by batch (`data`: "fbank" and
        "frames" per segment); with `chosen` (the pool caption chosen per segment, whose embedding
        is `data["texts"]`) the audio-text term is added."""
        cfg, net = self.config, self.net
        assert net is not None
        net.train()
        order = torch.randperm(data["frames"].shape[0], generator=generator)
        index_batches = list(itertools.islice(batch_rows([order.numpy()], cfg.batch_size, min_rows=2), self.steps_left))
        sums, steps = {"loss_va": 0.0, "loss_at": 0.0}, 0
        for index, batch in zip(index_batches, batches(data, index_batches, self.device)):
            embedded = net(batch["fbank"].float())
            loss_va = net.loss_va(embedded, batch["frames"])
            loss = loss_va
            if chosen is not None:
                groups = chosen[torch.from_numpy(index)]
                loss_at = net.loss_at(embedded, batch["texts"], groups)
                loss = loss + cfg.curation_weight * loss_at
                sums["loss_at"] += float(loss_at.detach())
            optimizer.zero_grad()
            loss.backward()
            if cfg.grad_clip > 0:
                torch.nn.utils.clip_grad_norm_(net.parameters(), cfg.grad_clip)
            if self.schedule is not None:
                self.schedule.apply(optimizer, self.step_index)
            optimizer.step()
            self.step_index += 1
            sums["loss_va"] += float(loss_va.detach())
            steps += 1
        if self.steps_left is not None:
            self.steps_left -= steps
        means = {k: v / max(steps, 1) for k, v in sums.items()}
        self.history["loss_va"].append(means["loss_va"])
        if chosen is not None:
            self.history["loss_at"].append(means["loss_at"])
            return means
        return {"loss_va": means["loss_va"]}

    # ------------------------------------------------------------------ encoding

    def _ready(self) -> tuple[FrozenClip, VipAntAudio]:
        if self.clip is None or self.net is None:
            raise RuntimeError("vip_ant is not pretrained: call pretrain or load first")
        return self.clip, self.net

    @torch.no_grad()
    def encode(self, modality: str, batch: Batch) -> Tensor:
        """audio [B, T*16000] -> [B, T, D]; visual uint8 [B, T, S, S, 3] -> [B, T, D]; text: B captions ->
        [B, 1, D]. All L2-normalized in CLIP's joint space."""
        clip, net = self._ready()
        if modality == "text":
            return clip.texts([str(c) for c in batch]).unsqueeze(1)
        x = torch.as_tensor(batch)
        if modality == "visual":
            if x.dim() != 5:
                raise UserError(f"vip_ant encodes raw frames [B, T, S, S, 3], got shape {tuple(x.shape)}")
            return clip.images(x.reshape(-1, *x.shape[2:])).reshape(x.shape[0], x.shape[1], -1)
        if modality == "audio":
            return self._encode_audio(x.float(), net)
        raise UserError(f"vip_ant encodes audio, visual and text, not {modality!r}")

    def _encode_audio(self, waveforms: Tensor, net: VipAntAudio) -> Tensor:
        net.eval()
        steps = segment_count(waveforms.shape[1], self.config)
        windows = segment_windows(waveforms.cpu(), self.config)
        out = [net(fbank_images(windows[s:s + self.config.encode_batch], self.config).to(self.device))
               for s in range(0, windows.shape[0], self.config.encode_batch)]
        return torch.cat(out).reshape(waveforms.shape[0], steps, -1)

    def encode_batch_size(self) -> int:
        return 32

    # ------------------------------------------------------------------ state

    def state(self) -> MethodState:
        """Tensors: the audio ViT and the temperatures (`net.*`). Extra: the audio input geometry, the
        per-epoch losses and which CLIP was used. The CLIP itself is written by `save`."""
        clip, net = self._ready()
        cfg = self.config
        tensors = {f"net.{k}": v.detach().cpu() for k, v in net.state_dict().items()}
        extra = {
            "geometry": {"frames": net.audio.n_frames, "mels": net.audio.n_mels, "stride": list(net.audio.stride)},
            "history": {k: list(v) for k, v in self.history.items()},
            "clip": {"name": cfg.clip, "synth_clip_pairs": cfg.synth_clip_pairs if cfg.clip == SYNTH_CLIP else None,
                     "dim": clip.dim},
        }
        return MethodState(tensors, extra)

    def load_state(self, state: MethodState) -> None:
        """Restore the audio ViT on top of the CLIP this instance already holds (after `pretrain`, or
        as `load` does after reading the saved CLIP back)."""
        if self.clip is None:
            raise RuntimeError("vip_ant.load_state needs its CLIP first: use load(directory), which reads it back")
        _check_geometry(self.config, state.extra.get("geometry"))
        net = VipAntAudio.from_clip(self.clip.model, self.config)
        net.load_state_dict({k[len("net."):]: v for k, v in state.tensors.items() if k.startswith("net.")})
        self.net = net.to(self.device).eval()
        self.history = {k: [float(x) for x in v] for k, v in state.extra.get("history", {}).items()}

    def save(self, directory: Path) -> None:
        clip, _ = self._ready()
        super().save(directory)
        save_pretrained(Path(directory) / CLIP_FOLDER, clip.model, clip.tokenizer, clip.preprocess.processor)

    def load(self, directory: Path) -> None:
        directory = Path(directory)
        state = MethodState.load(directory)
        _check_geometry(self.config, state.extra.get("geometry"))
        folder = directory / CLIP_FOLDER
        if not (folder / "config.json").is_file():
            raise DamagedArtifact(f"saved vip_ant in {directory} holds no CLIP folder; delete it to retrain")
        with saved_part(f"the CLIP folder of the saved vip_ant in {directory}"):
            model, tokenizer, preprocess = load_clip(str(folder), self.cache_dir, setting="vip_ant.clip")
        self.clip = self._frozen_clip(model, tokenizer, preprocess)
        self.load_state(state)


def _check_geometry(config: VipAntConfig, geometry: Any) -> None:
    """The audio ViT is rebuilt from `config`: its input geometry must be the one the state was trained with."""
    if not isinstance(geometry, dict) or not {"frames", "mels", "stride"} <= set(geometry):
        raise UserError("this saved state is not a vip_ant one (it records no audio geometry); pretrain again")
    if (config.frames, config.num_mel_bins, tuple(config.stride)) != (geometry["frames"], geometry["mels"], tuple(geometry["stride"])):
        raise UserError(f"this saved vip_ant was trained on {geometry['frames']} frames x {geometry['mels']} mel bins "
                        f"with stride {tuple(geometry['stride'])}, but the configuration asks for {config.frames} x "
                        f"{config.num_mel_bins} with {tuple(config.stride)}; pretrain again")

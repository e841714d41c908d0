"""`unified_vq`: the CMG method (Xia et al., "Achieving Cross Modal Generalization with Multimodal
Unified Representation", NeurIPS 2023; reference code haihuangcode/CMG).

Pretraining follows `train_epoch` in `code/src/pretrain.py`: per batch, one forward pass (which
also updates the codebook by MM-EMA), `club_steps` updates of the CLUB nets on detached inputs,
then one Adam step on recon + commitment + CLUB + Cross-CPC + CMCM with per-module gradient-norm
clipping; MultiStepLR per epoch. Downstream, `encode` returns the quantized code vectors of the
frozen semantic encoder (the shared discrete space), `code_indices` their indices, and
`trainable_encoder` a trainable copy of one modality's for a task to fine-tune (`finetune.py`).
"""
from __future__ import annotations

import dataclasses
import functools
import itertools
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from avtbench.api import Batch, Clips, Method, MethodState, Progress, UserError
from avtbench.data.loader import batch_rows, batches
from avtbench.data.npyfile import NpyRows, NpyWriter
from avtbench.logs import LIBRARY_LOG
from avtbench.toolkit import epoch_stats, seeded_rng

from . import CARD
from .config import MODALITY_SETS, REFERENCE_BEHAVIOUR, UnifiedVQConfig
from .finetune import TrainableSemanticEncoder
from .losses import LossWeights, total_loss
from .model import InputDims, UnifiedVQModel
from .released import input_dims, mapped_state, read_released, unused_tensors
from .usage import CodebookUsage
from .vocabulary import REFERENCE_MAX_TOKENS, ReferenceTokens, numbers_as_bert_uncased


class UnifiedVQ(Method):
    card = CARD
    plugin_api = "3"
    config_class = UnifiedVQConfig
    corpus = "corpus"

    def __init__(self, config: UnifiedVQConfig, device: str = "cpu", seed: int = 0, cache_dir: Path | None = None) -> None:
        super().__init__(config, device, seed, cache_dir)
        self.model: UnifiedVQModel | None = None
        self.usage: CodebookUsage | None = None
        self.text_steps = config.text_steps
        self.text_corpus: list[str] = []
        self._text_backbone: tuple[object, object] | None = None
        self.released = False
        """Whether the weights are a released CMG checkpoint's (`load_released`)."""

    @classmethod
    def validate(cls, config: UnifiedVQConfig) -> None:
        config.check()

    # ------------------------------------------------------------------ released checkpoints

    @classmethod
    def released_checkpoint(cls, config: UnifiedVQConfig) -> str | None:
        """The released CMG checkpoint to evaluate instead of pretraining (`unified_vq.checkpoint`), or None."""
        return config.checkpoint or None

    def load_released(self, path: str | Path) -> dict[str, Any]:
        """Take the encoding weights of a released CMG checkpoint (`released.py`) and return what the
        record keeps of it. It always runs with the reference's behaviour (`REFERENCE_BEHAVIOUR`): a
        setting that differs is overridden, said in one line on the library log and in the stats."""
        path = Path(path).expanduser()
        raw = read_released(path)
        forced = {k: v for k, v in REFERENCE_BEHAVIOUR.items() if getattr(self.config, k) != v}
        if forced:
            self.config = dataclasses.replace(self.config, **forced)
            LIBRARY_LOG.warning(f"unified_vq: the released checkpoint {path.name} runs as the reference code does: "
                                + ", ".join(f"{k}={v}" for k, v in forced.items()) + " (overriding the settings)")
        mods = self.config.modality_list
        model = UnifiedVQModel(self.config, input_dims(raw, mods, path), training_parts=False)
        wanted = model.state_dict()
        model.load_state_dict(mapped_state(raw, wanted, path, mods))
        self.model = model.to(self.device).eval()
        self.usage, self.text_steps, self.text_corpus = None, self.config.text_steps, []
        self._text_backbone, self.released = None, True
        epoch = raw.get("epoch")
        return {"released_epoch": int(epoch) if isinstance(epoch, int) else -1, "released_tensors": len(wanted),
                "released_unused_tensors": unused_tensors(raw, len(wanted)),
                "released_forced": ",".join(f"{k}={v}" for k, v in forced.items())}

    @classmethod
    def modalities_for(cls, config: UnifiedVQConfig) -> tuple[str, ...]:
        return MODALITY_SETS[config.modalities]

    # ------------------------------------------------------------------ pretraining

    def pretrain(self, corpus: Clips, workdir: Path, progress: Progress) -> dict[str, float]:
        cfg = self.config
        if cfg.checkpoint:
            raise UserError(f"unified_vq.checkpoint is set ({cfg.checkpoint}): a released checkpoint is loaded "
                            "(Method.load_released), not pretrained; this runner asked to pretrain it")
        mods = cfg.modality_list
        for m in mods:
            if not corpus.has(m):
                raise UserError(
                    f"unified_vq pretrains on {cfg.modalities} but the corpus has no {m}; "
                    "set unified_vq.modalities to the modalities it has (e.g. audio,visual)"
                )
        if len(corpus) < 2:
            raise UserError("unified_vq needs a corpus of at least 2 clips")
        steps = self._clip_steps(corpus, mods)
        if cfg.alignment == "cpc" and steps < cfg.prediction_steps + 1:
            raise UserError(
                f"clips of {steps} segments are too short for Cross-CPC predicting {cfg.prediction_steps} steps; "
                "lower unified_vq.cpc_steps or set unified_vq.alignment=infonce"
            )
        self._text_backbone = None
        with seeded_rng(self.seed, self.device):
            data = self._corpus_arrays(corpus, mods, steps, workdir)
            dims = self._dims(data)
            self.model = model = UnifiedVQModel(cfg, dims).to(self.device)
            result = self._train(model, data, progress)
        if "text" in mods:
            result["text_token_filter"] = float(self.reference_tokens() is not None)
        return result

    def _clip_steps(self, corpus: Clips, mods: tuple[str, ...]) -> int:
        lengths = {m: corpus.modality(m).shape[1] for m in mods if m != "text"}
        if len(set(lengths.values())) > 1:
            raise UserError(f"corpus modalities have different numbers of segments: {lengths}")
        return next(iter(lengths.values()), self.config.text_steps)

    def _corpus_arrays(self, corpus: Clips, mods: tuple[str, ...], steps: int, workdir: Path) -> dict[str, object]:
        """The corpus arrays training reads batch by batch: audio and visual as the reader gives them
        (lazy), text as frozen token features computed once and kept in a .npy file in `workdir`."""
        data = {m: corpus.modality(m) for m in mods if m != "text"}
        if "audio" in data and len(data["audio"].shape) != 3:
            raise UserError(f"corpus audio must be [N, T, D], got {tuple(data['audio'].shape)}")
        if "visual" in data and len(data["visual"].shape) != 5:
            raise UserError(f"corpus visual must be [N, T, H, W, C], got {tuple(data['visual'].shape)}")
        if "text" in mods:
            self.text_steps = steps
            self.text_corpus = self._text_corpus(corpus)
            data["text"] = self._text_features_file(list(corpus.modality("text")), Path(workdir) / "text_features.npy")
        return data

    def _text_features_file(self, captions: list[str], path: Path, chunk: int = 256) -> NpyRows:
        """Token features of every caption, written chunk by chunk to a .npy file read back by rows."""
        first = self.token_features(captions[:chunk]).cpu().numpy()
        with NpyWriter(path, (len(captions), *first.shape[1:])) as out:
            out.write(0, first)
            for start in range(chunk, len(captions), chunk):
                out.write(start, self.token_features(captions[start:start + chunk]).cpu().numpy())
        return NpyRows(path)

    @staticmethod
    def _dims(data: dict[str, object]) -> InputDims:
        h = w = c = 0
        if "visual" in data:
            h, w, c = data["visual"].shape[2:]
        return InputDims(audio=data["audio"].shape[-1] if "audio" in data else 0, height=h, width=w, channels=c,
                         text=data["text"].shape[-1] if "text" in data else 0)

    def _train(self, model: UnifiedVQModel, data: dict[str, object], progress: Progress) -> dict[str, float]:
        cfg = self.config
        n = next(iter(data.values())).shape[0]
        steps_left = cfg.max_steps or None
        optimizer = torch.optim.Adam(model.main_parameters(), lr=cfg.lr)
        club_optimizer = torch.optim.Adam(model.club.parameters(), lr=cfg.club_lr)
        scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones=list(cfg.lr_milestones), gamma=cfg.lr_gamma)
        weights = LossWeights(cfg.recon_weight, cfg.commit_weight, cfg.cmcm_weight, cfg.club_weight, cfg.cpc_weight)
        order_rng = np.random.default_rng(self.seed)
        generator = torch.Generator().manual_seed(self.seed)
        self.usage = CodebookUsage(model.modalities, cfg.codebook_size)
        batch_size = max(2, min(cfg.batch_size, n))
        means: dict[str, float] = {}
        history: list[dict[str, float]] = []
        model.train()
        for _ in progress.track(range(cfg.epochs), total=cfg.epochs, description="unified_vq pretraining"):
            sums: dict[str, float] = {}
            batch_count = 0
            rows = batch_rows([order_rng.permutation(n)], batch_size, min_rows=2)
            for inputs in batches(data, itertools.islice(rows, steps_left), self.device):
                stats = self._step(model, inputs, optimizer, club_optimizer, weights, generator)
                for k, v in stats.items():
                    sums[k] = sums.get(k, 0.0) + v
                batch_count += 1
            if steps_left is not None:
                steps_left -= batch_count
            codes = self.usage.end_epoch()
            scheduler.step()
            means = {k: v / max(batch_count, 1) for k, v in sums.items()}
            means.update({f"codes_{k}": float(v) for k, v in codes.items()})
            history.append(means)
            if steps_left == 0:
                break
        model.eval()
        return {**means, **_per_epoch(history)}

    def _step(self, model: UnifiedVQModel, inputs: dict[str, Tensor], optimizer: torch.optim.Optimizer,
              club_optimizer: torch.optim.Optimizer, weights: LossWeights, generator: torch.Generator) -> dict[str, float]:
        cfg = self.config
        state = model(inputs)
        club_fit = torch.zeros(())
        for _ in range(cfg.club_steps):
            club_optimizer.zero_grad()
            club_fit = model.club_learning_loss(state, cfg.club_positions, generator)
            club_fit.backward()
            club_optimizer.step()
        terms = model.loss_terms(state, generator)
        loss = total_loss(terms, weights)
        optimizer.zero_grad()
        loss.backward()
        if cfg.grad_clip > 0:
            for group in model.clip_groups().values():
                torch.nn.utils.clip_grad_norm_(group, cfg.grad_clip)
        optimizer.step()
        if self.usage is not None:
            self.usage.observe(state.codes.indices)
        stats = {k: float(v.detach()) for k, v in terms.items()}
        stats["loss"] = float(loss.detach())
        stats["club_fit"] = float(club_fit.detach())
        names = model.modalities
        for i, a in enumerate(names):
            for b in names[i + 1:]:
                ia, ib = state.codes.indices[a], state.codes.indices[b]
                stats[f"agree_{a[0]}{b[0]}"] = float((ia == ib).float().mean())
        return stats

    # ------------------------------------------------------------------ text features

    @staticmethod
    def _text_corpus(corpus: Clips) -> list[str]:
        """Distinct corpus captions (all of them when clips have several): what `synth://text` is
        trained on and its vocabulary made of."""
        return sorted({str(c).strip() for clip in corpus.caption_lists() for c in clip} - {""})

    def _backbone(self) -> tuple[object, object]:
        if self._text_backbone is None:
            from avtbench.backbones.text import MlmSchedule, load_text_encoder
            from avtbench.cache import default_cache_dir

            cfg = self.config
            tokenizer, model = load_text_encoder(cfg.text_encoder, self.cache_dir or default_cache_dir(), self.text_corpus,
                                                 cfg.synth_text_hidden, cfg.synth_text_layers,
                                                 schedule=MlmSchedule(steps=cfg.synth_text_steps))
            self._text_backbone = (tokenizer, model.to(self.device))
        return self._text_backbone

    def reference_tokens(self) -> ReferenceTokens | None:
        """CMG's tokenization (`token_filter=reference` with a tokenizer numbering as bert-base-uncased
        does), or None: every word token of the whole caption is kept."""
        if self.config.token_filter != "reference":
            return None
        tokenizer, _ = self._backbone()
        vocabulary = tokenizer.get_vocab()
        return ReferenceTokens.for_vocabulary(vocabulary, self.device) if numbers_as_bert_uncased(vocabulary) else None

    @torch.no_grad()
    def token_features(self, captions: list[str], chunk: int = 256) -> Tensor:
        """Frozen token features of captions aligned to `text_steps` steps: [B, T, hidden].

        As in the reference collate (`collate_func_AVT` in `code/src/pretrain.py:97-139`): the whole
        caption goes through the frozen encoder, the contextual features of its word tokens ([CLS],
        [SEP] and padding dropped) are kept in order, truncated to T and zero-padded to T. Under
        `token_filter=reference` (`reference_tokens`), as CMG's `bert_embedding`: BERT reads the
        caption's first 25 tokens, and only one-piece words of CMG's vocabulary are kept.
        """
        tokenizer, model = self._backbone()
        reference = self.reference_tokens()
        longest = REFERENCE_MAX_TOKENS if reference is not None else min(getattr(tokenizer, "model_max_length", 512), 512)
        out = []
        for start in range(0, len(captions), chunk):
            texts = [str(c) for c in captions[start:start + chunk]]
            enc = tokenizer(texts, padding=True, truncation=True, return_special_tokens_mask=True, return_tensors="pt",
                            max_length=longest)
            special = enc.pop("special_tokens_mask").bool()
            enc = {k: v.to(self.device) for k, v in enc.items()}
            hidden = model(**enc).last_hidden_state.float()
            keep = enc["attention_mask"].bool() & ~special.to(self.device)
            if reference is not None:
                keep &= reference.keeps(enc["input_ids"])
            slot = keep.long().cumsum(1) - 1
            keep &= slot < self.text_steps
            feats = hidden.new_zeros(hidden.shape[0], self.text_steps, hidden.shape[-1])
            rows = torch.arange(hidden.shape[0], device=hidden.device)[:, None].expand_as(slot)
            feats[rows[keep], slot[keep]] = hidden[keep]
            out.append(feats)
        return torch.cat(out) if out else torch.zeros(0, self.text_steps, 0)

    # ------------------------------------------------------------------ encoding

    def _trained_model(self) -> UnifiedVQModel:
        if self.model is None:
            raise RuntimeError("unified_vq is not pretrained: call pretrain or load first")
        return self.model

    def _pretrained_on(self, modality: str) -> UnifiedVQModel:
        """The model, which must have an encoder of `modality` (else one line)."""
        model = self._trained_model()
        if modality not in model.modalities:
            raise UserError(
                f"unified_vq was pretrained on {', '.join(model.modalities)}, not {modality}; "
                "set unified_vq.modalities to include it"
            )
        return model

    def _input(self, modality: str, batch: Batch) -> Tensor:
        model = self._pretrained_on(modality)
        if modality == "text":
            return self._text_input(list(batch), model.dims.text)
        return torch.as_tensor(batch, dtype=torch.float32).to(self.device)

    def _text_input(self, captions: list[str], width: int) -> Tensor:
        """Token features the text BiLSTM can read: a released checkpoint's reads BERT-base's 768-d ones."""
        from avtbench.backbones.text import SYNTH_TEXT

        if self.released and self.config.text_encoder == SYNTH_TEXT:
            raise UserError("a released CMG checkpoint reads captions through BERT; set unified_vq.text_encoder="
                            "bert-base-uncased (or a local copy of it) to encode text with it")
        features = self.token_features(captions)
        if features.shape[-1] != width:
            raise UserError(f"unified_vq's text BiLSTM reads {width}-wide token features, but unified_vq.text_encoder="
                            f"{self.config.text_encoder} gives {features.shape[-1]}-wide ones")
        return features

    @torch.no_grad()
    def encode(self, modality: str, batch: Batch) -> Tensor:
        """Quantized code vectors [B, T, embedding_dim] of the frozen semantic encoder."""
        x = self._input(modality, batch)
        model = self._trained_model().eval()
        codes, _ = model.quantized(modality, x)
        return codes

    @classmethod
    def trainable_modalities(cls, config: UnifiedVQConfig) -> tuple[str, ...]:
        return MODALITY_SETS[config.modalities]

    def trainable_encoder(self, modality: str) -> TrainableSemanticEncoder:
        """A trainable copy of `modality`'s semantic encoder (text: with its BiLSTM) and the codebook
        (`finetune.py`): `encode`'s codes, with straight-through gradients to the encoder."""
        encoder = TrainableSemanticEncoder(self._pretrained_on(modality), modality, functools.partial(self._input, modality))
        return encoder.to(self.device)

    @torch.no_grad()
    def code_indices(self, modality: str, batch: Batch) -> Tensor:
        """Indices [B, T] (int64) of the codes `encode` returns."""
        x = self._input(modality, batch)
        model = self._trained_model().eval()
        _, indices = model.quantized(modality, x)
        return indices

    # ------------------------------------------------------------------ state

    def state(self) -> MethodState:
        """The semantic encoders, text BiLSTM and codebook (what encoding needs; the specific encoders,
        decoders, Cross-CPC and CLUB nets only serve pretraining) and the per-epoch codebook usage as
        tensors; input sizes and the distinct corpus captions as JSON. The captions, not the text
        encoder's weights, are kept: `synth://text` is found again in the backbone cache by their
        hash (or retrained from them, seeded, on a fresh cache), and a real text encoder is loaded
        by its name."""
        model = self._trained_model()
        keep = ("semantic.", "text_lstm.", "codebook.")
        tensors = {f"model.{k}": v.detach().cpu() for k, v in model.state_dict().items() if k.startswith(keep)}
        if self.usage is not None:
            tensors["usage.masks"] = self.usage.to_tensor()
        extra = {"dims": model.dims.as_list(), "text_steps": self.text_steps, "text_corpus": list(self.text_corpus),
                 "behaviour": {k: getattr(self.config, k) for k in REFERENCE_BEHAVIOUR}, "released": self.released}
        return MethodState(tensors, extra)

    def load_state(self, state: MethodState) -> None:
        """Restore `state`, with the behaviour settings it was made under (a released checkpoint's are the
        reference's, whatever this config says)."""
        dims = InputDims.from_list(state.extra["dims"])
        self.text_steps = int(state.extra["text_steps"])
        self.text_corpus = list(state.extra["text_corpus"])
        self.config = dataclasses.replace(self.config, **state.extra.get("behaviour", {}))
        self.released = bool(state.extra.get("released", False))
        self._text_backbone = None
        model = UnifiedVQModel(self.config, dims, training_parts=False)
        model.load_state_dict({k[len("model."):]: v for k, v in state.tensors.items() if k.startswith("model.")})
        self.model = model.to(self.device).eval()
        masks = state.tensors.get("usage.masks")
        self.usage = CodebookUsage.from_tensor(model.modalities, masks) if masks is not None else None


HISTORY_KEYS = ("loss", "cpc", "cmcm", "club_fit")
"""Per-epoch means recorded as `epoch<e>.<key>` (with every `agree_*`, `recon.*` and `codes_*`: the codebook
usage per epoch, `codes_<modality>_only`, `codes_shared`, `codes_dead`): the training curve."""


def _per_epoch(history: list[dict[str, float]]) -> dict[str, float]:
    return epoch_stats([{k: v for k, v in means.items() if k in HISTORY_KEYS or k.startswith(("agree_", "recon.", "codes_"))}
                        for means in history])

"""Pretraining of LG-CAV-MAE: L = mae_weight (L_rec_a + L_rec_v) + lambda_1 L_c + lambda_2 (L_a2t + L_v2t).

Each epoch visits every training clip with `segments_per_clip` random segments (a segment's audio
window and its frame form one CAV-MAE input pair), shuffled into mini-batches. L_rec and L_c cover
every pair of the batch; the text terms cover the pairs whose clip has a kept triplet, against that
triplet's frozen CLAP caption embedding (at least two such pairs, else the batch has no text term).
Pairs of one clip, and captions that are the same text, are not counted as each other's negatives.
Batches stream through the DataLoader: `PairFbank` and `PairFrames` read just the batch's clips
and turn them into CAV-MAE's inputs, as one call over the whole corpus would.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import Tensor

from avtbench.api import Progress
from avtbench.data.blocks import SegmentRows, read_in_blocks
from avtbench.data.loader import batch_rows, batches
from avtbench.data.rows import RowArray

from .config import LGCavMaeConfig
from .frontend import fbank_inputs, frame_inputs, segment_count, segment_windows
from .losses import nce
from .model import CavMae
from .text import TextHead

TERMS = ("loss", "rec_a", "rec_v", "contrast", "a2t", "v2t")


@dataclass
class TextTargets:
    """Per corpus row the index of its triplet's caption embedding (-1: none), the embeddings
    [K, D] (L2-normalised; a tensor, or a lazy array read by the rows a batch needs) and a group id
    per embedding (equal ids: the same caption text)."""

    index: np.ndarray
    embeddings: Tensor | RowArray
    groups: Tensor

    def rows(self, picked: Tensor) -> Tensor:
        """The embeddings of `picked` (a CPU tensor of indices)."""
        if isinstance(self.embeddings, Tensor):
            return self.embeddings[picked]
        return torch.from_numpy(self.embeddings[picked.numpy()])

    @classmethod
    def none(cls, rows: int) -> TextTargets:
        return cls(np.full(rows, -1, dtype=np.int64), torch.zeros(0, 1), torch.zeros(0, dtype=torch.long))


@dataclass
class History:
    per_epoch: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k in TERMS})


class PairFbank(RowArray):
    """FBANK [N * T, frames, mel] of the audio window of every (clip, segment) pair, flat index
    b * T + t, computed from the clips read when rows are read (in the DataLoader's workers if any)."""

    def __init__(self, audio: Any, config: LGCavMaeConfig) -> None:
        self.audio, self.config, self.segments = audio, config, segment_count(audio.shape[1])
        self.shape = (len(audio) * self.segments, config.audio_frames, config.num_mel_bins)
        self.dtype = np.dtype(np.float32)

    def read(self, rows: np.ndarray) -> np.ndarray:
        clips, inverse = np.unique(rows // self.segments, return_inverse=True)
        waveforms = torch.from_numpy(np.ascontiguousarray(read_in_blocks(self.audio, clips), dtype=np.float32))
        windows = segment_windows(waveforms, self.config, inverse * self.segments + rows % self.segments)
        return fbank_inputs(windows, self.config).numpy()


class PairFrames(RowArray):
    """Normalised frames [N * T, 3, size, size] of every (clip, segment) pair, flat index b * T + t."""

    def __init__(self, visual: Any, size: int, resize: str = "torch") -> None:
        self.visual, self.size, self.resize, self.segments = visual, size, resize, visual.shape[1]
        self.shape, self.dtype = (len(visual) * self.segments, 3, size, size), np.dtype(np.float32)

    def read(self, rows: np.ndarray) -> np.ndarray:
        frames = SegmentRows(self.visual, rows // self.segments, rows % self.segments)[:]
        return frame_inputs(frames, self.size, self.resize).numpy()


def step_losses(model: CavMae, head: TextHead | None, fbank: Tensor, images: Tensor, rows: Tensor,
                text: TextTargets, config: LGCavMaeConfig) -> dict[str, Tensor]:
    """Every term of one batch, and their weighted sum under "loss"."""
    encoded = model.encode_masked(fbank, images, config.mask_ratio_audio, config.mask_ratio_visual)
    rec_a, rec_v = model.reconstruction(fbank, images, encoded, config.norm_pix_loss)
    a, v = encoded.audio.mean(dim=1), encoded.visual.mean(dim=1)
    contrast = nce(a, v, config.contrast_tau, config.contrast_bidirectional, groups=rows.to(a.device))
    zero = a.new_zeros(())
    a2t = v2t = zero
    index = torch.from_numpy(text.index[rows.numpy()])
    members = torch.nonzero(index >= 0).flatten()
    if head is not None and len(members) >= 2:
        targets = text.rows(index[members]).to(a.device)
        groups = text.groups[index[members]].to(a.device)
        members = members.to(a.device)
        a2t = nce(head(a[members], "audio"), targets, config.text_tau, config.text_bidirectional, groups)
        v2t = nce(head(v[members], "visual"), targets, config.text_tau, config.text_bidirectional, groups)
    loss = config.mae_weight * (rec_a + rec_v) + config.contrast_weight * contrast + config.text_weight * (a2t + v2t)
    return {"loss": loss, "rec_a": rec_a, "rec_v": rec_v, "contrast": contrast, "a2t": a2t, "v2t": v2t}


def pairs_of_epoch(rows: np.ndarray, segments: int, per_clip: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
    """(rows, segment indices) of one epoch: each row `per_clip` times with random segments, shuffled."""
    repeated = torch.from_numpy(np.repeat(rows, per_clip))
    steps = torch.randint(0, segments, (len(repeated),), generator=generator)
    order = torch.randperm(len(repeated), generator=generator)
    return repeated[order], steps[order]


def lr_factor(config: LGCavMaeConfig, step: int, epoch: int) -> float:
    """The share of `config.lr` at global step `step` (0 first) of epoch `epoch` (0 first): a linear rise
    over the first `warmup_steps` steps, times `lr_decay` for every milestone epoch passed (the epochs
    `lr_decay_start`, + `lr_decay_every`, ...: with CAV-MAE's 10 and 5, epochs 11-15 (1-based) run at
    half the rate, as its `MultiStepLR(range(10, 1000, 5))` stepped after each epoch does,
    `src/traintest_cavmae.py:57,168`)."""
    warm = min(1.0, (step + 1) / config.warmup_steps) if config.warmup_steps else 1.0
    passed = 0 if epoch < config.lr_decay_start else (epoch - config.lr_decay_start) // config.lr_decay_every + 1
    return warm * config.lr_decay ** passed


def train(model: CavMae, head: TextHead | None, audio: Any, visual: Any, rows: np.ndarray,
          text: TextTargets, config: LGCavMaeConfig, device: str, seed: int, progress: Progress) -> History:
    """Adam (CAV-MAE's betas and weight decay) over `config.epochs` (at most `config.max_steps` steps in
    all) at `lr_factor` times `config.lr`; the batches' inputs are read and computed through the
    DataLoader. Returns the mean of each term per epoch."""
    params = list(model.parameters()) + (list(head.parameters()) if head is not None else [])
    optimizer = torch.optim.Adam(params, lr=config.lr, weight_decay=config.weight_decay, betas=(0.95, 0.999))
    generator = torch.Generator().manual_seed(seed)
    step = 0
    inputs = {"fbank": PairFbank(audio, config), "frames": PairFrames(visual, config.image_size, config.frame_resize)}
    segments = visual.shape[1]
    history, steps_left = History(), config.max_steps or None
    model.train()
    for epoch in progress.track(range(config.epochs), total=config.epochs, description="lg_cav_mae pretraining"):
        if steps_left == 0:
            break
        epoch_rows, epoch_steps = pairs_of_epoch(rows, segments, config.segments_per_clip, generator)
        flat = (epoch_rows * segments + epoch_steps).numpy()
        index_batches = list(itertools.islice(batch_rows([flat], config.batch_size, min_rows=2), steps_left))
        sums = dict.fromkeys(TERMS, 0.0)
        for index, batch in zip(index_batches, batches(inputs, index_batches, device)):
            terms = step_losses(model, head, batch["fbank"], batch["frames"], torch.from_numpy(index // segments), text, config)
            optimizer.zero_grad()
            terms["loss"].backward()
            for group in optimizer.param_groups:
                group["lr"] = config.lr * lr_factor(config, step, epoch)
            optimizer.step()
            step += 1
            for k in TERMS:
                sums[k] += float(terms[k].detach())
        steps_left = None if steps_left is None else steps_left - len(index_batches)
        for k in TERMS:
            history.per_epoch[k].append(sums[k] / max(len(index_batches), 1))
    model.eval()
    return history

"""Training of the `avs_s4` segmentation model: S4's first-frame BCE, model selection by validation mIoU.

With a fine-tuned encoder (`EncodedSteps` conditioning) the encoder is part of the model: a second Adam
group at `encoder_lr`, in train mode with the segmenter, and its weights of the best epoch are the ones
kept. CMG's `train_at.py` calls its encoder outside `torch.no_grad()` (line 211) but gives the optimizer
only the segmenter and the 10-to-5 linear (line 176): its encoder never changes.
"""
from __future__ import annotations

import copy
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any, Union

import numpy as np
import torch
from torch import nn

from avtbench.api import Progress
from avtbench.finetune import EncodedRows
from avtbench.toolkit import seeded_rng
from avtbench.metrics.segmentation import mask_iou

from .model import Segmenter


def step_index(have: int, steps: int) -> np.ndarray:
    """Which of `have` embedding steps each of `steps` frames takes: floor(i * have / steps) (nearest step)."""
    return (np.arange(steps) * have) // steps


class EncodedSteps:
    """Conditioning read through a fine-tuned encoder: `cond[rows]` or `cond[rows, :t]` is the rows'
    embeddings resampled to `steps` steps (`step_index`), a float tensor with gradients while training."""

    def __init__(self, encoded: EncodedRows, steps: int) -> None:
        self.encoded, self.steps = encoded, steps

    def __len__(self) -> int:
        return len(self.encoded)

    @property
    def shape(self) -> tuple[int, ...]:
        return (len(self), self.steps, *self.encoded.shape[2:])

    def __getitem__(self, key: Any) -> torch.Tensor:
        rows, rest = (key[0], key[1:]) if isinstance(key, tuple) else (key, ())
        out = self.encoded.rows(np.arange(len(self))[rows])
        out = out[:, step_index(out.shape[1], self.steps)]
        return out[(slice(None), *rest)] if rest else out


Conditioning = Union[np.ndarray, EncodedSteps]


def _tensor(cond: np.ndarray | torch.Tensor, device: str) -> torch.Tensor:
    return (cond if isinstance(cond, torch.Tensor) else torch.from_numpy(cond)).to(device)


@dataclass
class SegSplit:
    """One split as the model sees it: frames uint8 [N, T, H, W, 3], conditioning float32 [N, T, D]
    (or read through a fine-tuned encoder), masks uint8 0/1 [N, T, H, W] and which of them are
    annotated, bool [N, T]."""

    frames: np.ndarray
    cond: Conditioning
    masks: np.ndarray
    annotated: np.ndarray

    def __len__(self) -> int:
        return len(self.frames)


@dataclass
class FitResult:
    model: Segmenter
    best_epoch: int
    """1-based epoch whose weights were kept."""
    val_miou: list[float] = field(default_factory=list)
    """Validation mIoU (fraction) after every epoch."""
    final_loss: float = 0.0


def frames_tensor(frames: np.ndarray, device: str) -> torch.Tensor:
    """uint8 [B, T, H, W, 3] -> float [B, T, 3, H, W] in [0, 1]."""
    return torch.from_numpy(np.ascontiguousarray(frames)).to(device).permute(0, 1, 4, 2, 3).float().div_(255.0)


def first_frame_loss(logits: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
    """S4's loss: BCE on the first frame of each clip only (logits [B, T', H, W], masks [B, T, H, W])."""
    return nn.functional.binary_cross_entropy_with_logits(logits[:, 0], masks[:, 0].float())


def fit_segmenter(train: SegSplit, val: SegSplit, *, width: int, fusion: str, epochs: int, lr: float,
                  batch_size: int, seed: int, device: str, progress: Progress, encoder_lr: float | None = None) -> FitResult:
    """Adam on `first_frame_loss`; after every epoch the validation mIoU, and the best epoch's weights
    are returned (the first best on ties). The model's initial weights and the batch order depend on
    `seed` alone (a forked random state, as `tasks.heads.fit`). A model whose frames are independent
    (`film`) is fed the first frame only: the same loss (up to float rounding), a fifth of the work.
    With `train.cond` an `EncodedSteps`, its encoder trains too, at `encoder_lr` (module docstring)."""
    tuned = train.cond.encoded if isinstance(train.cond, EncodedSteps) else None
    with seeded_rng(seed):
        model = Segmenter(train.cond.shape[-1], width, fusion).to(device)
        return _fit(model, tuned, train, val, epochs, lr, encoder_lr, batch_size, seed, device, progress)


def _fit(model: Segmenter, tuned: EncodedRows | None, train: SegSplit, val: SegSplit, epochs: int, lr: float,
         encoder_lr: float | None, batch_size: int, seed: int, device: str, progress: Progress) -> FitResult:
    if tuned is None:
        optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    elif encoder_lr is None:
        raise ValueError("fine-tuning an encoder needs its encoder_lr")
    else:
        optimizer = torch.optim.Adam([{"params": model.parameters()}, {"params": tuned.parameters(), "lr": encoder_lr}], lr=lr)
    generator = torch.Generator().manual_seed(seed)
    steps = train.frames.shape[1] if model.temporal else 1
    result = FitResult(model, 0)
    snapshot = lambda: (copy.deepcopy(model.state_dict()), tuned and copy.deepcopy(tuned.encoder.state_dict()))  # noqa: E731
    best_score, best_state = -1.0, snapshot()
    for epoch in progress.track(range(epochs), total=epochs, description="training segmenter"):
        model.train()
        if tuned is not None:
            tuned.train()
        for idx in torch.randperm(len(train), generator=generator).split(batch_size):
            rows = np.sort(idx.numpy())
            logits = model(frames_tensor(train.frames[rows, :steps], device), _tensor(train.cond[rows, :steps], device))
            loss = first_frame_loss(logits, torch.from_numpy(train.masks[rows]).to(device))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            result.final_loss = float(loss.detach())
        score = split_miou(model, val, device)
        result.val_miou.append(score)
        if score > best_score:
            best_score, best_state, result.best_epoch = score, snapshot(), epoch + 1
    model.load_state_dict(best_state[0])
    model.eval()
    if tuned is not None:
        tuned.encoder.load_state_dict(best_state[1])
        tuned.train(False)
    return result


@torch.no_grad()
def predict(model: Segmenter, frames: np.ndarray, cond: Conditioning, device: str, batch: int = 8) -> np.ndarray:
    """Mask probabilities float32 [N, T, H, W]."""
    model.eval()
    with cond.encoded.evaluating() if isinstance(cond, EncodedSteps) else nullcontext():
        out = [torch.sigmoid(model(frames_tensor(frames[i:i + batch], device), _tensor(cond[i:i + batch], device))).cpu()
               for i in range(0, len(frames), batch)]
    return torch.cat(out).numpy()


def split_miou(model: Segmenter, split: SegSplit, device: str, batch: int = 8) -> float:
    """Mean IoU (fraction) over the annotated frames of a split, predicted a batch of clips at a time."""
    total, count = 0.0, 0
    for i in range(0, len(split), batch):
        probs = predict(model, split.frames[i:i + batch], split.cond[i:i + batch], device, batch)
        keep = split.annotated[i:i + batch]
        total += float(mask_iou(probs[keep], split.masks[i:i + batch][keep]).sum())
        count += int(keep.sum())
    return total / max(count, 1)

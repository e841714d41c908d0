"""Training of the `avs_s4` segmentation model: S4's first-frame BCE, model selection by validation mIoU."""
from __future__ import annotations

import copy
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from avtbench.api import Progress
from avtbench.toolkit import seeded_rng
from avtbench.metrics.segmentation import mask_iou

from .model import Segmenter


@dataclass
class SegSplit:
    """One split as the model sees it: frames uint8 [N, T, H, W, 3], conditioning float32 [N, T, D],
    masks uint8 0/1 [N, T, H, W] and which of them are annotated, bool [N, T]."""

    frames: np.ndarray
    cond: np.ndarray
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
                  batch_size: int, seed: int, device: str, progress: Progress) -> FitResult:
    """Adam on `first_frame_loss`; after every epoch the validation mIoU, and the best epoch's weights
    are returned (the first best on ties). The model's initial weights and the batch order depend on
    `seed` alone (a forked random state, as `tasks.heads.fit`). A model whose frames are independent
    (`film`) is fed the first frame only: the same loss (up to float rounding), a fifth of the work."""
    with seeded_rng(seed):
        model = Segmenter(train.cond.shape[-1], width, fusion).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    generator = torch.Generator().manual_seed(seed)
    steps = train.frames.shape[1] if model.temporal else 1
    result = FitResult(model, 0)
    best_score, best_state = -1.0, copy.deepcopy(model.state_dict())
    for epoch in progress.track(range(epochs), total=epochs, description="training segmenter"):
        model.train()
        for idx in torch.randperm(len(train), generator=generator).split(batch_size):
            rows = np.sort(idx.numpy())
            logits = model(frames_tensor(train.frames[rows, :steps], device),
                           torch.from_numpy(train.cond[rows, :steps]).to(device))
            loss = first_frame_loss(logits, torch.from_numpy(train.masks[rows]).to(device))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            result.final_loss = float(loss.detach())
        score = split_miou(model, val, device)
        result.val_miou.append(score)
        if score > best_score:
            best_score, best_state, result.best_epoch = score, copy.deepcopy(model.state_dict()), epoch + 1
    model.load_state_dict(best_state)
    model.eval()
    return result


@torch.no_grad()
def predict(model: Segmenter, frames: np.ndarray, cond: np.ndarray, device: str, batch: int = 8) -> np.ndarray:
    """Mask probabilities float32 [N, T, H, W]."""
    model.eval()
    out = [torch.sigmoid(model(frames_tensor(frames[i:i + batch], device), torch.from_numpy(cond[i:i + batch]).to(device))).cpu()
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

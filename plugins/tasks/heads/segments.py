"""Per-segment multi-label heads as in CMG's AVVP and AVE->AVVP protocols."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from avtbench.api import Progress
from avtbench.config import setting
from avtbench.metrics.classification import precision_recall_f1_pooled
from avtbench.metrics.per_class import class_f1

from .classifiers import ExpLogLoss, Inputs, SegmentClassifier, fit, predict
from .finetune import EncoderTuning


def with_background(events: np.ndarray) -> np.ndarray:
    """[N, K, T] 0/1 events -> CMG's [N, T, K+1] labels whose last column marks segments with no event."""
    labels = np.transpose(events, (0, 2, 1)).astype(np.float32)
    background = (labels.sum(-1, keepdims=True) == 0).astype(np.float32)
    return np.concatenate([labels, background], axis=-1)


@dataclass
class SegmentHeadConfig(EncoderTuning):
    epochs: int = setting(50, low=1)
    lr: float = setting(4e-4, above=0)
    batch_size: int = setting(80, low=1)


@dataclass
class SegmentResult:
    head: nn.Module
    final: dict[str, float]
    per_epoch: list[dict[str, float]]
    class_f1: np.ndarray
    """[K] the final head's F1 (%) of each foreground class over every test segment, at 0.5 as `final`; NaN
    for a class neither predicted nor present (`avtbench.metrics.per_class.class_f1`)."""


def train_and_score(x_train: Inputs, y_train: np.ndarray, x_test: np.ndarray, y_test: np.ndarray,
                    config: SegmentHeadConfig, seed: int, device: str, progress: Progress) -> SegmentResult:
    """BCE + ExpLogLoss on [N, T, K+1] labels; pooled precision/recall/F1 at 0.5 on the test set after each epoch."""
    n_classes = y_train.shape[-1]
    explog = ExpLogLoss(n_classes).to(device)
    bce = nn.BCEWithLogitsLoss()
    per_epoch: list[dict[str, float]] = []

    def loss_fn(logits, target):
        target = target.float()
        return bce(logits, target) + explog(logits, target)

    def score(head: nn.Module) -> None:
        per_epoch.append(pooled_scores(head, x_test, y_test, device))

    head = fit(lambda: SegmentClassifier(x_train.shape[-1], n_classes), loss_fn, x_train, y_train,
               epochs=config.epochs, lr=config.lr, batch_size=config.batch_size, seed=seed, device=device,
               progress=progress, extra_params=list(explog.parameters()), after_epoch=score, encoder_lr=config.encoder_lr)
    pred = probabilities(head, x_test, device) > 0.5
    return SegmentResult(head, per_epoch[-1], per_epoch, class_f1(pred[..., :-1], y_test[..., :-1] > 0.5))


def probabilities(head: nn.Module, x: Inputs, device: str) -> np.ndarray:
    return torch.sigmoid(torch.from_numpy(predict(head, x, device))).numpy()


CMG_EVAL_BATCH = 80


def pooled_scores(head: nn.Module, x: np.ndarray, y: np.ndarray, device: str) -> dict[str, float]:
    """Precision/recall/F1 pooled over every segment and class (`precision`, `recall`, `f1`), and CMG's own
    variant (`*_cmg_batched`): per-batch precision and recall over batches of 80 videos in order, averaged
    with batch-size weights, F1 from the averages (what its `validate_epoch` logs)."""
    pred = (probabilities(head, x, device) > 0.5).astype(np.uint8)
    gt = (y > 0.5).astype(np.uint8)
    pooled = precision_recall_f1_pooled(pred, gt)
    batched = precision_recall_f1_pooled(pred, gt, batch_size=CMG_EVAL_BATCH)
    return {**pooled, **{f"{k}_cmg_batched": v for k, v in batched.items()}}

"""The `avs_s4` metrics: AVSBench's mIoU and F-score over a whole split, and per test batch as the reference."""
from __future__ import annotations

import numpy as np

from avtbench.metrics.segmentation import f_score, mask_iou

REFERENCE_TEST_BATCH = 4
"""Videos per test batch in AVSBench's `test.sh` (`--test_batch_size 4`)."""


def segmentation_scores(probs: np.ndarray, masks: np.ndarray, batch: int = REFERENCE_TEST_BATCH) -> dict[str, float]:
    """probs float [N, T, H, W] in [0, 1], masks 0/1 [N, T, H, W], every frame annotated; in percent.

    `miou`: mean IoU over all N * T frames (`mask_iou`: > 0.5, empty ground truth scored by the
    background agreement). `f_score`: the maximum over 255 thresholds of the mean F-measure
    (beta^2 = 0.3) over all frames with a non-empty ground truth, one dataset-level maximum.
    `miou_batched`, `f_score_batched`: the reference's figures, each computed per test batch of
    `batch` videos (in order; the last may be smaller) and averaged over batches unweighted
    (`pyutils.AverageMeter`), so they depend on the batch size.
    """
    n, t, h, w = probs.shape
    flat_p, flat_m = probs.reshape(n * t, h, w), masks.reshape(n * t, h, w)
    per_batch = [(float(mask_iou(flat_p[i * t:(i + batch) * t], flat_m[i * t:(i + batch) * t]).mean()),
                  f_score(flat_p[i * t:(i + batch) * t], flat_m[i * t:(i + batch) * t])) for i in range(0, n, batch)]
    return {
        "miou": 100.0 * float(mask_iou(flat_p, flat_m).mean()),
        "f_score": 100.0 * f_score(flat_p, flat_m),
        "miou_batched": 100.0 * float(np.mean([m for m, _ in per_batch])),
        "f_score_batched": 100.0 * float(np.mean([f for _, f in per_batch])),
    }


def clip_iou(probs: np.ndarray, masks: np.ndarray) -> np.ndarray:
    """Mean IoU (fraction) of each clip over its frames: [N]."""
    n, t, h, w = probs.shape
    return mask_iou(probs.reshape(n * t, h, w), masks.reshape(n * t, h, w)).reshape(n, t).mean(axis=1)

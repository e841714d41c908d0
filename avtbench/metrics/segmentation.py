"""Sound-source segmentation metrics of the AVSBench S4 benchmark.

Reimplements OpenNLPLab/AVSBench ``avs_scripts/avs_s4/utils/utility.py``
(``mask_iou``, ``_eval_pr``, ``Eval_Fmeasure``) as driven by
``avs_scripts/avs_s4/test.py``. The reference receives logits and applies a
sigmoid itself; these functions take probabilities (or 0/1 masks) in [0, 1],
i.e. the reference's values after its sigmoid. Results are fractions in
[0, 1], as the reference returns them (the AVSBench paper prints mIoU x 100
and the F-score as a fraction).
"""
from __future__ import annotations

import numpy as np

_IOU_EPS = 1e-7
_PR_EPS = 1e-20


def mask_iou(pred_masks: np.ndarray, gt_masks: np.ndarray) -> np.ndarray:
    """Per-image IoU, shape [N], of ``pred > 0.5`` against the ground-truth mask.

    Empty ground truth (no sounding object) follows the reference: the score
    is the fraction of pixels the prediction also leaves empty, i.e.
    |not pred and not gt| / (H * W). Otherwise IoU = |pred and gt| / (|pred or gt| + 1e-7).
    """
    pred, gt = _validate(pred_masks, gt_masks)
    binary = pred > 0.5
    inter = (binary & gt).sum(axis=(1, 2)).astype(np.float64)
    union = (binary | gt).sum(axis=(1, 2)).astype(np.float64)
    empty = ~gt.any(axis=(1, 2))
    inter[empty] = (~binary[empty] & ~gt[empty]).sum(axis=(1, 2))
    union[empty] = gt.shape[1] * gt.shape[2]
    return inter / (union + _IOU_EPS)


def miou(pred_masks: np.ndarray, gt_masks: np.ndarray) -> float:
    """Mean of ``mask_iou`` over all images.

    The reference averages per test batch (one video of 5 frames) and then
    over batches; with equal frame counts per video this is the same mean.
    """
    return float(mask_iou(pred_masks, gt_masks).mean())


def f_score(
    pred: np.ndarray,
    gt: np.ndarray,
    beta2: float = 0.3,
    num_thresholds: int = 255,
    frames_per_video: int | None = None,
) -> float:
    """Maximum over thresholds of the mean F-measure, as in AVSBench ``Eval_Fmeasure``.

    For each image with a non-empty ground truth and each of ``num_thresholds``
    thresholds ``linspace(0, 1 - 1e-10)``, binarise ``pred >= t`` and compute
    P = TP / (#pred + 1e-20), R = TP / (#gt + 1e-20) and
    F = (1 + beta2) P R / (beta2 P + R), with F = 0 where that is 0 / 0. The
    per-threshold F curves are averaged over images and the maximum is taken.
    Images with an empty ground-truth mask are skipped; a group made only of
    such images scores 0.

    The reference computes this per test batch and averages the batch maxima;
    ``avs_s4/test.py`` uses batches of one video of 5 frames, reproduced with
    ``frames_per_video=5``. ``None`` treats all N images as one group, a single
    dataset-level maximum. The reference's thresholds are float32, so its last
    one is exactly 1.0 rather than 1 - 1e-10; only scores within 1e-10 of 1 differ.
    """
    pred, gt = _validate(pred, gt)
    if beta2 <= 0:
        raise ValueError(f"beta2 must be positive, got {beta2}")
    if isinstance(num_thresholds, bool) or not isinstance(num_thresholds, int) or num_thresholds < 2:
        raise ValueError(f"num_thresholds must be an int >= 2, got {num_thresholds!r}")
    group = len(pred) if frames_per_video is None else frames_per_video
    if isinstance(group, bool) or not isinstance(group, int) or group < 1 or len(pred) % group:
        raise ValueError(
            f"frames_per_video must be a positive int dividing the {len(pred)} images, got {frames_per_video!r}"
        )
    thresholds = np.linspace(0.0, 1.0 - 1e-10, num_thresholds)
    curves = np.array([_f_curve(p, g, thresholds, beta2) for p, g in zip(pred, gt)])
    keep = gt.any(axis=(1, 2))
    maxima = [_group_max(curves[i : i + group], keep[i : i + group]) for i in range(0, len(pred), group)]
    return float(np.mean(maxima))


def _group_max(curves: np.ndarray, keep: np.ndarray) -> float:
    return float(curves[keep].mean(axis=0).max()) if keep.any() else 0.0


def _f_curve(pred: np.ndarray, gt: np.ndarray, thresholds: np.ndarray, beta2: float) -> np.ndarray:
    """F-measure of one image at every threshold."""
    scores = pred.ravel()
    order = np.sort(scores)
    n_pred = len(order) - np.searchsorted(order, thresholds, side="left")
    positives = np.sort(scores[gt.ravel()])
    tp = len(positives) - np.searchsorted(positives, thresholds, side="left")
    precision = tp / (n_pred + _PR_EPS)
    recall = tp / (len(positives) + _PR_EPS)
    denom = beta2 * precision + recall
    with np.errstate(invalid="ignore", divide="ignore"):
        f = (1 + beta2) * precision * recall / denom
    return np.where(denom > 0, f, 0.0)


def _validate(pred: np.ndarray, gt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    pred = np.asarray(pred, dtype=np.float64)
    gt_arr = np.asarray(gt)
    if pred.ndim != 3 or pred.shape != gt_arr.shape or 0 in pred.shape:
        raise ValueError(
            f"pred {pred.shape} and gt {gt_arr.shape} must both be non-empty [N, H, W] of the same shape; "
            "squeeze channel axes"
        )
    if np.isnan(pred).any() or pred.min() < 0 or pred.max() > 1:
        raise ValueError("pred must hold probabilities or 0/1 masks in [0, 1]; apply a sigmoid to logits first")
    if not np.isin(gt_arr, (0, 1)).all():
        raise ValueError("gt must be a 0/1 mask; binarise it first (e.g. gt > 0 for 0/255 PNG masks)")
    return pred, gt_arr.astype(bool)

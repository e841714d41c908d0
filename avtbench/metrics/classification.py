"""Classification metrics for the AVE and AVVP-style downstream tasks.

Definitions follow the reference evaluation code rather than textbook formulas
where the two differ; each function says which reference it reproduces.
"""
from __future__ import annotations

from typing import Literal

import numpy as np

from avtbench.metrics.arrays import as_binary


def threshold(probs: np.ndarray, thresh: float = 0.5, inclusive: bool = False) -> np.ndarray:
    """Binarise probabilities into a 0/1 int array.

    CMG's AVVP and AVE->AVVP evaluation uses a strict ``probs > 0.5`` (the
    default); the official AVVP evaluation (AVVP-ECCV20 ``main_avvp.py``) uses
    ``probs >= 0.5``, selected with ``inclusive=True``.
    """
    probs = np.asarray(probs, dtype=np.float64)
    if np.isnan(probs).any():
        raise ValueError("probs contains NaN; pass finite probabilities in [0, 1]")
    hits = probs >= thresh if inclusive else probs > thresh
    return hits.astype(np.int64)


def accuracy(pred_labels: np.ndarray, true_labels: np.ndarray) -> float:
    """Percentage of positions where the predicted class index equals the true one."""
    pred = _as_class_indices(pred_labels, "pred_labels")
    true = _as_class_indices(true_labels, "true_labels")
    if pred.shape != true.shape:
        raise ValueError(
            f"pred_labels has shape {pred.shape} but true_labels has {true.shape}; pass one label per item in both"
        )
    if pred.size == 0:
        raise ValueError("pred_labels is empty; pass at least one prediction")
    return float(100.0 * np.mean(pred == true))


def ave_accuracy(
    pred: np.ndarray, labels: np.ndarray, level: Literal["segment", "video"] = "segment"
) -> float:
    """Accuracy on AVE, in percent, under one of the two published protocols.

    ``level="segment"`` reproduces AVE-ECCV18 ``supervised_main.py::compute_acc``:
    every one-second segment of every test video is one sample, classes are the
    29 AVE labels *including* background (last column), and the prediction is
    the argmax of the 29 scores. ``pred`` is scores ``[V, T, C]`` or class
    indices ``[V, T]``; ``labels`` is one-hot ``[V, T, C]`` (AVE ``labels.h5``)
    or class indices ``[V, T]``.

    ``level="video"`` reproduces CMG ``ave.py::compute_accuracy_supervised``:
    one sample per video, 28 foreground classes, no background. ``pred`` is
    scores ``[V, C-1]`` or indices ``[V]``. A one-hot ``labels [V, T, C]`` is
    reduced as CMG does: argmax over the foreground columns per segment, then
    the maximum over segments (a background segment argmaxes to 0, so this
    yields the video's single event class; an all-background video gets 0).
    Integer ``labels [V]`` are used as given.
    """
    if level == "segment":
        return accuracy(_segment_predictions(pred), _segment_labels(labels))
    if level == "video":
        return accuracy(_video_predictions(pred), _video_labels(labels))
    raise ValueError(f"level must be 'segment' or 'video', got {level!r}")


def ave_class_accuracy(pred: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Per foreground class, the video-level accuracy of `ave_accuracy(pred, labels, level="video")` on
    that class's videos (NaN for a class with none), from the same reductions of `pred` and `labels`."""
    from avtbench.metrics.per_class import class_accuracy

    true = _video_labels(labels)
    scores = np.asarray(pred)
    n_classes = scores.shape[-1] if scores.ndim == 2 else np.asarray(labels).shape[-1] - 1
    return class_accuracy(_video_predictions(pred), true, int(n_classes))


def precision_recall_f1_pooled(
    pred01: np.ndarray, gt01: np.ndarray, batch_size: int | None = None
) -> dict[str, float]:
    """Pooled (micro) precision, recall and F1 over every binary entry, in percent.

    Reproduces CMG ``avvp.py`` / ``ave_avvp.py::compute_accuracy_supervised_sigmoid``:
    precision = TP / #predicted ones and recall = TP / #ground-truth ones, both
    counted over all (segment, class) entries together. Edge cases, as in CMG:
    with no predicted ones at all, precision *and* recall are 0 (even if there
    is ground truth). With predictions but no ground-truth ones, CMG divides
    0 by 0 (NaN); here recall is 0 instead.

    F1 is the harmonic mean of the final precision and recall (CMG computes it
    from the averaged P and R, not per batch); it is 0 when both are 0, where
    CMG would divide by zero.

    CMG evaluates per data-loader batch and averages the batch precisions and
    recalls weighted by batch size. ``batch_size=None`` pools everything at
    once; ``batch_size=n`` splits the first axis into consecutive chunks of
    ``n`` items to reproduce CMG's numbers for the same batching.
    """
    pred = as_binary(pred01, "pred01")
    gt = as_binary(gt01, "gt01")
    if pred.shape != gt.shape:
        raise ValueError(f"pred01 has shape {pred.shape} but gt01 has {gt.shape}; pass arrays of the same shape")
    if pred.ndim == 0 or pred.shape[0] == 0:
        raise ValueError("pred01 is empty; pass at least one item along the first axis")
    if batch_size is not None and (not isinstance(batch_size, int) or batch_size < 1):
        raise ValueError(f"batch_size must be a positive int or None, got {batch_size!r}")
    step = pred.shape[0] if batch_size is None else batch_size
    chunks = [(pred[i : i + step], gt[i : i + step]) for i in range(0, pred.shape[0], step)]
    scores = np.array([_pooled_precision_recall(p, g) for p, g in chunks])
    weights = np.array([len(p) for p, _ in chunks], dtype=np.float64)
    precision, recall = (weights @ scores) / weights.sum()
    f1 = 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)
    return {"precision": 100.0 * precision, "recall": 100.0 * recall, "f1": 100.0 * f1}


def _pooled_precision_recall(pred: np.ndarray, gt: np.ndarray) -> tuple[float, float]:
    n_pred = int(pred.sum())
    if n_pred == 0:
        return 0.0, 0.0
    n_gt = int(gt.sum())
    tp = int((pred * gt).sum())
    return tp / n_pred, (tp / n_gt if n_gt else 0.0)


def _as_class_indices(values: np.ndarray, name: str) -> np.ndarray:
    arr = np.asarray(values)
    if arr.dtype.kind == "b" or not np.issubdtype(arr.dtype, np.number):
        raise ValueError(f"{name} must hold integer class indices, got dtype {arr.dtype}; pass argmax indices")
    if not np.all(np.isfinite(arr)) or not np.all(arr == np.round(arr)) or (arr < 0).any():
        raise ValueError(f"{name} must hold non-negative integer class indices; pass argmax indices")
    return arr.astype(np.int64)


def _one_hot_argmax(labels: np.ndarray, name: str) -> np.ndarray:
    arr = as_binary(labels, name)
    if not (arr.sum(axis=-1) == 1).all():
        raise ValueError(f"{name} must be one-hot along its last axis (exactly one 1 per segment); fix the labels")
    return arr.argmax(axis=-1)


def _scores_argmax(scores: np.ndarray, name: str) -> np.ndarray:
    arr = np.asarray(scores, dtype=np.float64)
    if np.isnan(arr).any():
        raise ValueError(f"{name} contains NaN; pass finite scores")
    return arr.argmax(axis=-1)


def _segment_predictions(pred: np.ndarray) -> np.ndarray:
    arr = np.asarray(pred)
    if arr.ndim == 3:
        return _scores_argmax(arr, "pred")
    if arr.ndim == 2:
        return _as_class_indices(arr, "pred")
    raise ValueError(
        f"pred must be scores [videos, segments, classes] or indices [videos, segments], got shape {arr.shape}"
    )


def _segment_labels(labels: np.ndarray) -> np.ndarray:
    arr = np.asarray(labels)
    if arr.ndim == 3:
        return _one_hot_argmax(arr, "labels")
    if arr.ndim == 2:
        return _as_class_indices(arr, "labels")
    raise ValueError(
        f"labels must be one-hot [videos, segments, classes] or indices [videos, segments], got shape {arr.shape}"
    )


def _video_predictions(pred: np.ndarray) -> np.ndarray:
    arr = np.asarray(pred)
    if arr.ndim == 2:
        return _scores_argmax(arr, "pred")
    if arr.ndim == 1:
        return _as_class_indices(arr, "pred")
    raise ValueError(f"pred must be scores [videos, foreground classes] or indices [videos], got shape {arr.shape}")


def _video_labels(labels: np.ndarray) -> np.ndarray:
    arr = np.asarray(labels)
    if arr.ndim == 3:
        _one_hot_argmax(arr, "labels")
        return arr[:, :, :-1].argmax(axis=-1).max(axis=-1)
    if arr.ndim == 1:
        return _as_class_indices(arr, "labels")
    raise ValueError(f"labels must be one-hot [videos, segments, classes] or indices [videos], got shape {arr.shape}")

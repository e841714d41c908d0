"""The official AVVP (LLP dataset) segment- and event-level F1 evaluation.

Reimplements the metric of Tian et al., "Unified Multisensory Perception:
Weakly-Supervised Audio-Visual Video Parsing" (ECCV 2020), as computed by
YapengTian/AVVP-ECCV20 ``utils/eval_metrics.py`` (``segment_level``,
``event_level``, ``extract_event``, ``event_wise_metric``) and aggregated by
``main_avvp.py::eval``:

* Each video is a (25 classes, 10 segments) 0/1 matrix per modality. The
  audio-visual matrices are the element-wise products audio * visual, for
  prediction and ground truth alike.
* Per video and per class, TP/FP/FN are counted. Segment level: over the 10
  segments. Event level: events are maximal runs of 1s; a predicted event is
  a TP if its temporal IoU with *some* ground-truth event is >= 0.5
  (inclusive), otherwise an FP; a ground-truth event no prediction reaches
  with IoU >= 0.5 is an FN.
* Per class F1 = 2TP / (2TP + FP + FN), averaged over the classes that have
  any prediction or ground truth; a video with none at all scores 1.0.
* Event@AV does not use the audio-visual matrices: per class it adds the
  audio and the visual TP/FP/FN counts (audio events are matched only against
  audio ground truth, visual against visual) and then takes F1 as above.
* Dataset scores are the plain mean over videos, in percent. Type@AV is the
  mean of the audio, visual and audio-visual dataset scores.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from avtbench.metrics.arrays import as_binary

NUM_CLASSES = 25
NUM_SEGMENTS = 10
_IOU_THRESHOLD = 0.5

Counts = tuple[np.ndarray, np.ndarray, np.ndarray]
CountFn = Callable[[np.ndarray, np.ndarray], Counts]


def extract_events(vector: np.ndarray) -> list[tuple[int, int]]:
    """Maximal runs of 1s in a 1-D 0/1 vector as half-open ``(start, end)`` pairs."""
    arr = _binary(vector, "vector")
    if arr.ndim != 1:
        raise ValueError(f"vector must be 1-D (one class over segments), got shape {arr.shape}; pass one row")
    edges = np.diff(np.concatenate(([0], arr, [0])))
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1)
    return [(int(s), int(e)) for s, e in zip(starts, ends)]


def segment_f1(pred: np.ndarray, gt: np.ndarray) -> float:
    """Segment-level F1 of one video, a fraction in [0, 1]; inputs are (classes, segments) 0/1."""
    pred, gt = _video_pair(pred, gt)
    return _mean_f1(*_segment_counts(pred, gt))


def event_f1(pred: np.ndarray, gt: np.ndarray) -> float:
    """Event-level F1 of one video, a fraction in [0, 1]; inputs are (classes, segments) 0/1."""
    pred, gt = _video_pair(pred, gt)
    return _mean_f1(*_event_counts(pred, gt))


def avvp_f1(
    pred_audio: np.ndarray, pred_visual: np.ndarray, gt_audio: np.ndarray, gt_visual: np.ndarray
) -> dict[str, dict[str, float]]:
    """Official AVVP F1 scores in percent for arrays shaped (videos, 25, 10) of 0/1.

    Returns ``{"segment": {...}, "event": {...}}``, each with keys ``audio``,
    ``visual``, ``audio_visual``, ``type_av`` and ``event_av``.
    """
    arrays = [
        _as_videos(a, name)
        for a, name in zip(
            (pred_audio, pred_visual, gt_audio, gt_visual), ("pred_audio", "pred_visual", "gt_audio", "gt_visual")
        )
    ]
    if len({a.shape[0] for a in arrays}) != 1:
        raise ValueError(
            f"inputs disagree on the number of videos {[a.shape[0] for a in arrays]}; "
            "pass the same videos in the same order"
        )
    pa, pv, ga, gv = arrays
    return {
        "segment": _level_scores(pa, pv, ga, gv, _segment_counts),
        "event": _level_scores(pa, pv, ga, gv, _event_counts),
    }


def _level_scores(pa: np.ndarray, pv: np.ndarray, ga: np.ndarray, gv: np.ndarray, count: CountFn) -> dict[str, float]:
    per_video = np.array([_video_scores(pa[i], pv[i], ga[i], gv[i], count) for i in range(len(pa))])
    audio, visual, audio_visual, event_av = 100.0 * per_video.mean(axis=0)
    return {
        "audio": float(audio),
        "visual": float(visual),
        "audio_visual": float(audio_visual),
        "type_av": float((audio + visual + audio_visual) / 3.0),
        "event_av": float(event_av),
    }


def _video_scores(pa: np.ndarray, pv: np.ndarray, ga: np.ndarray, gv: np.ndarray, count: CountFn) -> list[float]:
    audio = count(pa, ga)
    visual = count(pv, gv)
    both = tuple(a + v for a, v in zip(audio, visual))
    return [_mean_f1(*audio), _mean_f1(*visual), _mean_f1(*count(pa * pv, ga * gv)), _mean_f1(*both)]


def _mean_f1(tp: np.ndarray, fp: np.ndarray, fn: np.ndarray) -> float:
    """Mean per-class F1 over classes with any prediction or ground truth; 1.0 if there are none."""
    active = (tp + fp > 0) | (tp + fn > 0)
    if not active.any():
        return 1.0
    tp, fp, fn = tp[active], fp[active], fn[active]
    return float(np.mean(2 * tp / (2 * tp + fp + fn)))


def _segment_counts(pred: np.ndarray, gt: np.ndarray) -> Counts:
    tp = (pred * gt).sum(axis=1)
    fp = (pred * (1 - gt)).sum(axis=1)
    fn = ((1 - pred) * gt).sum(axis=1)
    return tp, fp, fn


def _event_counts(pred: np.ndarray, gt: np.ndarray) -> Counts:
    counts = np.array([_class_event_counts(p, g) for p, g in zip(pred, gt)], dtype=np.int64).reshape(-1, 3)
    return counts[:, 0], counts[:, 1], counts[:, 2]


def _class_event_counts(pred: np.ndarray, gt: np.ndarray) -> tuple[int, int, int]:
    pred_events = extract_events(pred) if pred.any() else []
    gt_events = extract_events(gt) if gt.any() else []
    tp = sum(any(_matches(p, g) for g in gt_events) for p in pred_events)
    fn = sum(not any(_matches(g, p) for p in pred_events) for g in gt_events)
    return tp, len(pred_events) - tp, fn


def _matches(a: tuple[int, int], b: tuple[int, int]) -> bool:
    inter = max(0, min(a[1], b[1]) - max(a[0], b[0]))
    union = (a[1] - a[0]) + (b[1] - b[0]) - inter
    return inter >= _IOU_THRESHOLD * union


def _video_pair(pred: np.ndarray, gt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    pred = _binary(pred, "pred")
    gt = _binary(gt, "gt")
    if pred.ndim != 2 or pred.shape != gt.shape:
        raise ValueError(
            f"pred {pred.shape} and gt {gt.shape} must both be 2-D (classes, segments) of the same shape; "
            "pass one video"
        )
    return pred, gt


def _as_videos(values: np.ndarray, name: str) -> np.ndarray:
    arr = _binary(values, name)
    if arr.ndim != 3 or arr.shape[1:] != (NUM_CLASSES, NUM_SEGMENTS):
        raise ValueError(
            f"{name} must have shape (videos, {NUM_CLASSES}, {NUM_SEGMENTS}), got {arr.shape}; "
            "transpose to (videos, classes, segments)"
        )
    if arr.shape[0] == 0:
        raise ValueError(f"{name} has no videos; pass at least one video")
    return arr


def _binary(values: np.ndarray, name: str) -> np.ndarray:
    return as_binary(values, name, "threshold probabilities first (official AVVP uses >= 0.5)")

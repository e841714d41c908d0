"""Per-class scores in a record: the naming convention (`<metric>[<class name>]`), and the two scores tasks give.

A task that can say how each class fared adds one metric per class to what `evaluate` returns, named
`accuracy[Church bell]`, `f1[Dog]`: a record's metrics stay one flat mapping of numbers (tables, `--metric`
and merges read them as any other metric), and `split` separates them again for the report's bar charts.
A class with nothing to score (no test item of it, no prediction of it) is left out, never written as 0.
"""
from __future__ import annotations

import math
import re
from typing import Iterable, Mapping, Sequence

import numpy as np

_NAME = re.compile(r"^(?P<metric>[^\[\]]+)\[(?P<cls>.+)\]$")


def per_class_name(metric: str, class_name: str) -> str:
    """The metric name of one class's score: `f1[Dog]`."""
    return f"{metric}[{class_name}]"


def per_class_metrics(metric: str, class_names: Sequence[str], values: Iterable[float]) -> dict[str, float]:
    """`{metric[class]: value}` for each class whose value is finite (NaN: nothing to score)."""
    values = list(values)
    if len(values) != len(class_names):
        raise ValueError(f"{len(values)} per-class values for {len(class_names)} class names; pass one per class")
    return {per_class_name(metric, str(name)): float(value) for name, value in zip(class_names, values)
            if math.isfinite(float(value))}


def split(metrics: Mapping[str, float]) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
    """(the plain metrics, {metric: {class: value}}) of a record's metrics, classes in the record's order."""
    plain: dict[str, float] = {}
    by_metric: dict[str, dict[str, float]] = {}
    for name, value in metrics.items():
        found = _NAME.match(name)
        if found is None:
            plain[name] = value
        else:
            by_metric.setdefault(found["metric"], {})[found["cls"]] = value
    return plain, by_metric


def class_accuracy(pred: np.ndarray, true: np.ndarray, n_classes: int) -> np.ndarray:
    """Per class, the percentage of its items predicted as it (its recall; what a per-class bar of an
    accuracy shows); NaN for a class with no item. `pred`, `true`: class indices [N]."""
    pred, true = np.asarray(pred).reshape(-1), np.asarray(true).reshape(-1)
    if pred.shape != true.shape:
        raise ValueError(f"pred has shape {pred.shape} but true has {true.shape}; pass one class index per item in both")
    out = np.full(n_classes, np.nan)
    for k in range(n_classes):
        mine = true == k
        if mine.any():
            out[k] = 100.0 * float(np.mean(pred[mine] == k))
    return out


def class_f1(pred01: np.ndarray, gt01: np.ndarray) -> np.ndarray:
    """Per class (the last axis), F1 in percent over every other position of 0/1 predictions and ground
    truth (for segment labels [N, T, K]: over every video and segment); NaN for a class that has neither a
    predicted nor a true one."""
    pred = np.asarray(pred01).astype(bool)
    gt = np.asarray(gt01).astype(bool)
    if pred.shape != gt.shape:
        raise ValueError(f"pred01 has shape {pred.shape} but gt01 has {gt.shape}; pass arrays of the same shape")
    axes = tuple(range(pred.ndim - 1))
    tp = (pred & gt).sum(axis=axes).astype(np.float64)
    predicted, actual = pred.sum(axis=axes), gt.sum(axis=axes)
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = 200.0 * tp / (predicted + actual)
    return np.where(predicted + actual > 0, f1, np.nan)

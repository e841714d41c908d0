"""`avvp`: AVVP event localization, cross-modal.

Two families of numbers, both reported, named:
- CMG-style (`precision`, `recall`, `f1`; main metric `f1`): a per-segment head over 25 classes plus
  background (`heads.SegmentClassifier`, BCE + ExpLogLoss, lr 4e-4, batch 80, 50 epochs, as CMG's
  `avvp.py`) trained on the source modality's segment labels, scored on the target modality's labels,
  pooled over all segments and classes at threshold 0.5. With `protocol: cmg` (default, as the
  reference) it trains and tests on all annotated videos (val + test), each time with that modality's
  labels; with `protocol: split` it trains on val and tests on test. CMG reports the epoch of best
  precision; we report the final epoch and add that variant as `f1_best_precision_epoch`.
- Official AVVP evaluation (`segment_*`, `event_*`): on the test split, the same head predicts audio
  events from audio embeddings and visual events from visual embeddings (foreground classes, 0.5),
  scored by `avtbench.metrics.avvp.avvp_f1` (audio, visual, audio_visual, type_av, event_av).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np

from avtbench.api import Clips, DatasetSource, Direction, Embeddings, Progress, Task, UserError
from avtbench.config import setting
from avtbench.hookspecs import hookimpl
from avtbench.metrics.avvp import avvp_f1

from .segments import SegmentHeadConfig, probabilities, train_and_score, with_background

PROTOCOLS = ("cmg", "split")


@dataclass
class AVVPConfig(SegmentHeadConfig):
    protocol: str = setting("cmg", choices=PROTOCOLS)
    visual_features: str = "vgg19"


def _stack(splits: dict[str, Clips], names: tuple[str, ...], key: str) -> np.ndarray:
    return np.concatenate([splits[s].labels[key] for s in names])


class AVVP(Task):
    name = "avvp"
    version = "2"
    directions = ("a2v", "v2a")
    main_metric = "f1"
    datasets = ("avvp",)
    config_class = AVVPConfig
    summary = "AVVP segment-level event localization: CMG pooled P/R/F1 and official segment/event F1"

    def splits(self, data: Mapping[str, DatasetSource]) -> dict[str, Clips]:
        return {s: data["avvp"].read(s, visual_features=self.config.visual_features) for s in ("val", "test")}

    def evaluate(self, embeddings: Embeddings, splits: dict[str, Clips], direction: Direction,
                 seed: int, device: str, progress: Progress) -> dict[str, float]:
        train_splits = ("val", "test") if self.config.protocol == "cmg" else ("val",)
        test_splits = ("val", "test") if self.config.protocol == "cmg" else ("test",)
        src, tgt = direction.source, direction.target
        x_train = np.concatenate([embeddings[(s, src)] for s in train_splits])
        y_train = with_background(_stack(splits, train_splits, src))
        x_test = np.concatenate([embeddings[(s, tgt)] for s in test_splits])
        y_test = with_background(_stack(splits, test_splits, tgt))
        result = train_and_score(x_train, y_train, x_test, y_test, self.config, seed, device, progress)
        best = max(result.per_epoch, key=lambda m: m["precision"])
        metrics = dict(result.final)
        metrics["f1_best_precision_epoch"] = best["f1"]
        metrics.update(self._official(result.head, embeddings, splits["test"], device))
        return metrics

    def _official(self, head, embeddings: Embeddings, test: Clips, device: str) -> dict[str, float]:
        def events(modality: str) -> np.ndarray:
            probs = probabilities(head, embeddings[("test", modality)], device)[..., :-1]
            return np.transpose(probs > 0.5, (0, 2, 1)).astype(np.uint8)

        scores = avvp_f1(events("audio"), events("visual"), test.labels["audio"], test.labels["visual"])
        return {f"{level}_{kind}": value for level, by_kind in scores.items() for kind, value in by_kind.items()}


@hookimpl
def avtbench_tasks():
    return [AVVP]

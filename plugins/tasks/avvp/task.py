"""`avvp`: AVVP event localization, cross-modal.

Two families of numbers, both reported, named:
- CMG-style (`precision`, `recall`, `f1`; main metric `f1`): a per-segment head over 25 classes plus
  background (`heads.classifiers.SegmentClassifier`, BCE + ExpLogLoss, lr 4e-4, batch 80, 50 epochs, as CMG's
  `avvp.py`) trained on the source modality's segment labels, scored on the target modality's labels,
  pooled over all segments and classes at threshold 0.5. Which videos, by `avvp.protocol`:
  - `split` (default): trains on the val videos, tests on the test videos: no video is on both sides,
    so the number measures transfer to unseen clips, not to the other modality of a seen one;
  - `pooled`: trains and tests on all annotated videos (val + test, 1849 in the release), each time
    with that modality's labels, all-background videos included (what avtbench called `cmg` before);
  - `cmg`: the reference's own selection, as CMG's `avvp.py`: trains on the videos of CMG's
    `AVVP_eval_<source>_checked_combined.csv` with source features and labels, tests on those of
    `AVVP_eval_<target>_checked_combined.csv` with target features and labels (v2a: train on the
    visual list, 1661 videos, test on the audio list, 1846 rows; a2v the reverse). The lists hold only
    the val/test videos with at least one event in that modality, with CMG's checked labels; each row
    is one clip, labelled by that row alone (see `avtbench_plugins.datasets.avvp.reader`). The AVVP root must hold them.
  CMG reports the epoch of best precision; we report the final epoch and add that variant as
  `f1_best_precision_epoch`. `f1[<class>]`: the final head's F1 of each class over the test segments
  (`avtbench.metrics.per_class`; ours, for the report's per-class bars).
- Official AVVP evaluation (`segment_*`, `event_*`): on the release test split, whatever the protocol,
  the same head predicts audio events from audio embeddings and visual events from visual embeddings
  (foreground classes, 0.5), scored by `avtbench.metrics.avvp.avvp_f1` (audio, visual, audio_visual,
  type_av, event_av). Under `pooled` and `cmg` the head has seen the test videos (in one modality).
`avvp.finetune_encoder=true` trains the method's source encoder with the head at `avvp.encoder_lr`
(default 4e-4, ours: the head's lr, as adding the encoder to CMG's Adam at `avvp.py:148` would give);
the official evaluation then reads the source modality through it (`avtbench_plugins.tasks.heads.finetune`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from avtbench.api import Clips, DatasetSource, Direction, Embeddings, Progress, Task
from avtbench.config import setting
from avtbench.metrics.avvp import avvp_f1
from avtbench.metrics.per_class import per_class_metrics
from avtbench_plugins.tasks.heads.finetune import inputs_of, tuned_modalities, without_tuned
from avtbench_plugins.tasks.heads.segments import SegmentHeadConfig, probabilities, train_and_score, with_background

from . import CARD

PROTOCOLS = ("split", "pooled", "cmg")
OFFICIAL = "test"
"""The split of the official evaluation."""


@dataclass
class AVVPConfig(SegmentHeadConfig):
    protocol: str = setting("split", choices=PROTOCOLS)
    visual_features: str = "vgg19"


def cmg_list(modality: str) -> str:
    """The split of CMG's list of the videos with an event in `modality`."""
    return f"cmg_eval_{modality}"


def _stack(splits: dict[str, Clips], names: tuple[str, ...], key: str) -> np.ndarray:
    return np.concatenate([splits[s].labels[key] for s in names])


class AVVP(Task):
    card = CARD
    plugin_api = "3"
    config_class = AVVPConfig

    def splits(self, data: Mapping[str, DatasetSource]) -> dict[str, Clips]:
        names = ("val", OFFICIAL) if self.config.protocol != "cmg" else (cmg_list("audio"), cmg_list("visual"), OFFICIAL)
        return {s: data["avvp"].read(s, visual_features=self.config.visual_features) for s in names}

    def _sides(self, direction: Direction) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """(train splits, test splits) of the protocol."""
        protocol = self.config.protocol
        if protocol == "cmg":
            return (cmg_list(direction.source),), (cmg_list(direction.target),)
        if protocol == "pooled":
            return ("val", OFFICIAL), ("val", OFFICIAL)
        return ("val",), (OFFICIAL,)

    @classmethod
    def finetuned_modalities(cls, config: AVVPConfig, direction: Direction) -> tuple[str, ...]:
        return tuned_modalities(config, direction)

    def needs(self, direction: Direction, splits: dict[str, Clips]) -> list[tuple[str, str]]:
        train, test = self._sides(direction)
        pairs = [(s, direction.source) for s in train] + [(s, direction.target) for s in test]
        return without_tuned(list(dict.fromkeys(pairs + [(OFFICIAL, "audio"), (OFFICIAL, "visual")])), self.config, direction)

    def evaluate(self, embeddings: Embeddings, splits: dict[str, Clips], direction: Direction,
                 seed: int, device: str, progress: Progress, encoders: Mapping[str, Any] | None = None) -> dict[str, float]:
        train_splits, test_splits = self._sides(direction)
        src, tgt = direction.source, direction.target
        x_train = inputs_of(embeddings, encoders, splits, train_splits, src, device)
        y_train = with_background(_stack(splits, train_splits, src))
        x_test = np.concatenate([embeddings[(s, tgt)] for s in test_splits])
        y_test = with_background(_stack(splits, test_splits, tgt))
        result = train_and_score(x_train, y_train, x_test, y_test, self.config, seed, device, progress)
        best = max(result.per_epoch, key=lambda m: m["precision"])
        metrics = dict(result.final)
        metrics["f1_best_precision_epoch"] = best["f1"]
        metrics["n_train_videos"] = float(len(x_train))
        metrics["n_test_videos"] = float(len(x_test))
        metrics.update(per_class_metrics("f1", splits[test_splits[0]].class_names, result.class_f1))
        metrics.update(self._official(result.head, embeddings, encoders, splits, device))
        return metrics

    def _official(self, head, embeddings: Embeddings, encoders: Mapping[str, Any] | None, splits: dict[str, Clips],
                  device: str) -> dict[str, float]:
        test = splits[OFFICIAL]

        def events(modality: str) -> np.ndarray:
            probs = probabilities(head, inputs_of(embeddings, encoders, splits, (OFFICIAL,), modality, device), device)[..., :-1]
            return np.transpose(probs > 0.5, (0, 2, 1)).astype(np.uint8)

        scores = avvp_f1(events("audio"), events("visual"), test.labels["audio"], test.labels["visual"])
        return {f"{level}_{kind}": value for level, by_kind in scores.items() for kind, value in by_kind.items()}

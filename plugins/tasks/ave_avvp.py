"""`ave_avvp`: cross-dataset and cross-modal: train on AVE, test on AVVP over their 12 shared classes.

As CMG's `ave_avvp.py`: a per-segment head over the 12 shared classes plus background (BCE + ExpLogLoss,
lr 4e-4, batch 80) is trained on AVE train clips of the shared classes in the source modality and scored
on the annotated AVVP videos (val + test) that contain a shared class in the target modality, with
pooled precision/recall/F1 at 0.5 (main metric `f1`). CMG reports the best epoch by F1 on that set; we
report the final epoch and add the reference's variant as `f1_best_epoch`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np

from avtbench.api import Clips, DatasetSource, Direction, Embeddings, Progress, Task
from avtbench.data.vocab import AVE_AVVP_SHARED
from avtbench.config import setting
from avtbench.hookspecs import hookimpl

from .segments import SegmentHeadConfig, train_and_score, with_background


@dataclass
class AVEAVVPConfig(SegmentHeadConfig):
    epochs: int = setting(30, low=1)
    visual_features: str = "vgg19"


def shared_ave_events(ave: Clips) -> np.ndarray:
    """AVE [N, T, 29] one-hot segments -> [N, 12, T] events of the shared classes."""
    index = [ave.class_names.index(a) for a, _ in AVE_AVVP_SHARED]
    return np.transpose(ave.labels["segment"][:, :, index], (0, 2, 1))


def shared_avvp_events(avvp: Clips, modality: str) -> np.ndarray:
    index = [avvp.class_names.index(v) for _, v in AVE_AVVP_SHARED]
    return avvp.labels[modality][:, index, :]


class AVEAVVP(Task):
    name = "ave_avvp"
    version = "2"
    directions = ("a2v", "v2a")
    main_metric = "f1"
    datasets = ("ave", "avvp")
    config_class = AVEAVVPConfig
    summary = "train on AVE, test on AVVP, 12 shared classes, pooled F1"

    def splits(self, data: Mapping[str, DatasetSource]) -> dict[str, Clips]:
        ave = data["ave"].read("train")
        ave = ave.subset(np.flatnonzero(shared_ave_events(ave).any(axis=(1, 2))))
        annotated = [data["avvp"].read(s, visual_features=self.config.visual_features) for s in ("val", "test")]
        return {"ave_train": ave, "avvp_val": annotated[0], "avvp_test": annotated[1]}

    def needs(self, direction: Direction, splits: dict[str, Clips]) -> list[tuple[str, str]]:
        return [("ave_train", direction.source), ("avvp_val", direction.target), ("avvp_test", direction.target)]

    def evaluate(self, embeddings: Embeddings, splits: dict[str, Clips], direction: Direction,
                 seed: int, device: str, progress: Progress) -> dict[str, float]:
        tgt = direction.target
        x_train = embeddings[("ave_train", direction.source)]
        y_train = with_background(shared_ave_events(splits["ave_train"]))
        test_events = np.concatenate([shared_avvp_events(splits[s], tgt) for s in ("avvp_val", "avvp_test")])
        keep = test_events.any(axis=(1, 2))
        x_test = np.concatenate([embeddings[(s, tgt)] for s in ("avvp_val", "avvp_test")])[keep]
        y_test = with_background(test_events[keep])
        result = train_and_score(x_train, y_train, x_test, y_test, self.config, seed, device, progress)
        metrics = dict(result.final)
        metrics["f1_best_epoch"] = max(m["f1"] for m in result.per_epoch)
        metrics["n_test_videos"] = float(keep.sum())
        return metrics


@hookimpl
def avtbench_tasks():
    return [AVEAVVP]

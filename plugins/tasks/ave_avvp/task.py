"""`ave_avvp`: cross-dataset and cross-modal: train on AVE, test on AVVP over their 12 shared classes.

As CMG's `ave_avvp.py`: a per-segment head over the 12 shared classes plus background (BCE + ExpLogLoss,
lr 4e-4, batch 80) is trained on AVE clips of the shared classes in the source modality and scored on
AVVP videos in the target modality, with pooled precision/recall/F1 at 0.5 (main metric `f1`).
Protocols (`ave_avvp.protocol`):
- `clean` (default): trains 30 epochs on the AVE *train* split's shared-class clips (1475 in the
  release), labels from AVE's own annotations; tests on the annotated AVVP videos (val + test) that
  contain a shared class in the target modality, labels from the release's evaluation files.
- `cmg`: the reference's own: trains 50 epochs on every row CMG's `ave_avvp_order.h5` lists (every
  shared-class clip of AVE train, val and test: 1831) with its labels `ave_avvp_labels.h5`; tests
  on the videos of CMG's `AVE_AVVP_eval_<target>_checked_combined.csv` (audio 1085, visual 1032),
  with its checked labels. The AVE root must hold the two .h5 files, the AVVP root the two lists.
`epochs` left unset means 30 under `clean` and 50 under `cmg` (the recorded config holds the number).
CMG reports the best epoch by F1 on the test set; we report the final epoch and add the reference's
variant as `f1_best_epoch`. `f1[<class>]` (AVVP's class names): the final head's F1 of each shared class
over the test segments (`avtbench.metrics.per_class`; ours, for the report's per-class bars).
`ave_avvp.finetune_encoder=true` trains the method's source encoder with the head on AVE at
`ave_avvp.encoder_lr` (default 4e-4, ours: the head's lr, as adding the encoder to CMG's Adam at
`ave_avvp.py:147` would give); see `avtbench_plugins.tasks.heads.finetune`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from avtbench.api import Clips, DatasetSource, Direction, Embeddings, Progress, Task
from avtbench.config import setting
from avtbench.metrics.per_class import per_class_metrics
from avtbench_plugins.datasets.ave.vocab import AVE_AVVP_SHARED
from avtbench_plugins.tasks.heads.finetune import inputs_of, tuned_modalities, without_tuned
from avtbench_plugins.tasks.heads.segments import SegmentHeadConfig, train_and_score, with_background

from . import CARD

PROTOCOLS = ("clean", "cmg")
EPOCHS = {"clean": 30, "cmg": 50}
CMG_AVE_SPLIT = "ave_avvp"


@dataclass
class AVEAVVPConfig(SegmentHeadConfig):
    protocol: str = setting("clean", choices=PROTOCOLS)
    epochs: int | None = setting(None, low=1)
    """None: the protocol's (30 clean, 50 cmg)."""
    visual_features: str = "vgg19"

    def __post_init__(self) -> None:
        if self.epochs is None and self.protocol in EPOCHS:
            self.epochs = EPOCHS[self.protocol]


def shared_ave_events(ave: Clips) -> np.ndarray:
    """AVE [N, T, 29] one-hot segments -> [N, 12, T] events of the shared classes."""
    index = [ave.class_names.index(a) for a, _ in AVE_AVVP_SHARED]
    return np.transpose(ave.labels["segment"][:, :, index], (0, 2, 1))


def shared_avvp_events(avvp: Clips, modality: str) -> np.ndarray:
    index = [avvp.class_names.index(v) for _, v in AVE_AVVP_SHARED]
    return avvp.labels[modality][:, index, :]


def cmg_list(modality: str) -> str:
    """The AVVP split of CMG's AVE->AVVP test list of `modality`."""
    return f"cmg_ave_avvp_{modality}"


class AVEAVVP(Task):
    card = CARD
    plugin_api = "3"
    config_class = AVEAVVPConfig

    def splits(self, data: Mapping[str, DatasetSource]) -> dict[str, Clips]:
        features = self.config.visual_features
        if self.config.protocol == "cmg":
            return {"ave_train": data["ave"].read(CMG_AVE_SPLIT),
                    **{cmg_list(m): data["avvp"].read(cmg_list(m), visual_features=features) for m in ("audio", "visual")}}
        ave = data["ave"].read("train")
        ave = ave.subset(np.flatnonzero(shared_ave_events(ave).any(axis=(1, 2))))
        annotated = [data["avvp"].read(s, visual_features=features) for s in ("val", "test")]
        return {"ave_train": ave, "avvp_val": annotated[0], "avvp_test": annotated[1]}

    def _test_splits(self, direction: Direction) -> tuple[str, ...]:
        return (cmg_list(direction.target),) if self.config.protocol == "cmg" else ("avvp_val", "avvp_test")

    @classmethod
    def finetuned_modalities(cls, config: AVEAVVPConfig, direction: Direction) -> tuple[str, ...]:
        return tuned_modalities(config, direction)

    def needs(self, direction: Direction, splits: dict[str, Clips]) -> list[tuple[str, str]]:
        pairs = [("ave_train", direction.source), *((s, direction.target) for s in self._test_splits(direction))]
        return without_tuned(pairs, self.config, direction)

    def evaluate(self, embeddings: Embeddings, splits: dict[str, Clips], direction: Direction,
                 seed: int, device: str, progress: Progress, encoders: Mapping[str, Any] | None = None) -> dict[str, float]:
        tgt = direction.target
        tests = self._test_splits(direction)
        x_train = inputs_of(embeddings, encoders, splits, ("ave_train",), direction.source, device)
        ave = splits["ave_train"]
        if self.config.protocol == "cmg":
            y_train = ave.labels[CMG_AVE_SPLIT]  # CMG's own [N, T, 12 + 1] labels
        else:
            y_train = with_background(shared_ave_events(ave))
        test_events = np.concatenate([shared_avvp_events(splits[s], tgt) for s in tests])
        x_test = np.concatenate([embeddings[(s, tgt)] for s in tests])
        if self.config.protocol != "cmg":  # CMG's lists hold only such videos already
            keep = test_events.any(axis=(1, 2))
            x_test, test_events = x_test[keep], test_events[keep]
        result = train_and_score(x_train, y_train, x_test, with_background(test_events), self.config, seed, device, progress)
        metrics = dict(result.final)
        metrics["f1_best_epoch"] = max(m["f1"] for m in result.per_epoch)
        metrics["n_train_videos"] = float(len(x_train))
        metrics["n_test_videos"] = float(len(x_test))
        metrics.update(per_class_metrics("f1", [avvp for _, avvp in AVE_AVVP_SHARED], result.class_f1))
        return metrics

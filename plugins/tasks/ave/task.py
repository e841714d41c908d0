"""`ave`: AVE event classification, cross-modal.

The head (linear, max over time, linear; `VideoClassifier` of `avtbench_plugins.tasks.heads.classifiers`)
is trained with cross-entropy on the source modality's frozen embeddings of the AVE train split; accuracy
is video-level over the 28 event classes, with CMG's `ave.py` settings (lr 4e-4, batch 80, grad clip 0.5,
30 epochs, halving at 10/20/30). Protocols (`ave.protocol`):
- `clean` (default): the head is tested on the target modality's embeddings of the test split.
- `cmg`: the reference's own protocol. CMG's released `ave.py` builds only the train loader and
  evaluates on it, so it tests the target modality on the *train* split, the clips the head was
  trained on (in the other modality); numbers are not comparable with `clean`.
CMG logs the accuracy after every epoch and reports the best; we report the final epoch as
`accuracy` and the reference's variant as `accuracy_best_epoch`. `source_accuracy` is the head on
the source modality of the same evaluation split; `accuracy[<class>]` the final head's accuracy on
each class's test videos (`avtbench.metrics.per_class`).
`ave.finetune_encoder=true` trains the method's source encoder with the head at `ave.encoder_lr`
(default 4e-4, ours: the head's lr, what adding the encoder to CMG's one Adam at `ave.py:106` would
give); see `avtbench_plugins.tasks.heads.finetune` (CMG's appendix Table 2).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np
from torch import nn

from avtbench.api import Clips, DatasetSource, Direction, Embeddings, Progress, Task
from avtbench.config import setting
from avtbench.metrics.classification import ave_accuracy, ave_class_accuracy
from avtbench.metrics.per_class import per_class_metrics
from avtbench_plugins.tasks.heads.classifiers import VideoClassifier, fit, predict
from avtbench_plugins.tasks.heads.finetune import EncoderTuning, inputs_of, tuned_modalities, without_tuned

from . import CARD


PROTOCOLS = ("clean", "cmg")
EVAL_SPLIT = {"clean": "test", "cmg": "train"}
"""The split each protocol evaluates on."""


@dataclass
class AVEConfig(EncoderTuning):
    protocol: str = setting("clean", choices=PROTOCOLS)
    epochs: int = setting(30, low=1)
    lr: float = setting(4e-4, above=0)
    batch_size: int = setting(80, low=1)


def video_classes(segment_labels: np.ndarray) -> np.ndarray:
    """The event class of each video from [N, T, K+1] one-hot segment labels (background last), as CMG reduces them."""
    return segment_labels[:, :, :-1].argmax(axis=-1).max(axis=-1)


class AVE(Task):
    card = CARD
    plugin_api = "3"
    config_class = AVEConfig

    def splits(self, data: Mapping[str, DatasetSource]) -> dict[str, Clips]:
        return {split: data["ave"].read(split) for split in dict.fromkeys(("train", EVAL_SPLIT[self.config.protocol]))}

    @classmethod
    def finetuned_modalities(cls, config: AVEConfig, direction: Direction) -> tuple[str, ...]:
        return tuned_modalities(config, direction)

    def needs(self, direction: Direction, splits: dict[str, Clips]) -> list[tuple[str, str]]:
        test = EVAL_SPLIT[self.config.protocol]
        pairs = list(dict.fromkeys([("train", direction.source), (test, direction.target), (test, direction.source)]))
        return without_tuned(pairs, self.config, direction)

    def evaluate(self, embeddings: Embeddings, splits: dict[str, Clips], direction: Direction,
                 seed: int, device: str, progress: Progress, encoders: Mapping[str, Any] | None = None) -> dict[str, float]:
        c = self.config
        test = EVAL_SPLIT[c.protocol]
        train_y = video_classes(splits["train"].labels["segment"])
        test_labels = splits[test].labels["segment"]
        n_classes = splits["train"].labels["segment"].shape[-1] - 1
        x_train = inputs_of(embeddings, encoders, splits, ("train",), direction.source, device)
        x_test = embeddings[(test, direction.target)]
        per_epoch: list[float] = []

        def score(head: nn.Module) -> None:
            per_epoch.append(ave_accuracy(predict(head, x_test, device), test_labels, level="video"))

        head = fit(lambda: VideoClassifier(x_train.shape[-1], n_classes), nn.CrossEntropyLoss(), x_train, train_y,
                   epochs=c.epochs, lr=c.lr, batch_size=c.batch_size, seed=seed, device=device,
                   progress=progress, after_epoch=score, encoder_lr=c.encoder_lr)
        same_modality = predict(head, inputs_of(embeddings, encoders, splits, (test,), direction.source, device), device)
        by_class = ave_class_accuracy(predict(head, x_test, device), test_labels)
        return {
            "accuracy": per_epoch[-1],
            "accuracy_best_epoch": max(per_epoch),
            "source_accuracy": ave_accuracy(same_modality, test_labels, level="video"),
            **per_class_metrics("accuracy", splits[test].class_names[:n_classes], by_class),
        }

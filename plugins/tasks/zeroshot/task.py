"""`zeroshot`: classify AVE test audio by cosine to text prompts "the sound of <class>", as VIP-ANT does.

No head is trained. A clip's audio embedding is the mean of its segment embeddings; each class's
prompt is embedded by the method's text encoder. Each class is described as its dataset source
describes it (`Clips.descriptions`): on real AVE by its name in lower case, on a provided copy as
the provider's captions phrase it.
Accuracy is video-level over the 28 AVE classes, in percent; `accuracy[<class>]` on each class's videos.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from avtbench.api import Clips, DatasetSource, Direction, Embeddings, Progress, Task
from avtbench.metrics.classification import ave_accuracy, ave_class_accuracy
from avtbench.metrics.per_class import per_class_metrics
from avtbench_plugins.tasks.heads.pooling import pooled

from . import CARD

PROMPTS = "prompts"


@dataclass
class ZeroShotConfig:
    template: str = "the sound of {}"


class ZeroShot(Task):
    card = CARD
    plugin_api = "3"
    config_class = ZeroShotConfig

    def splits(self, data: Mapping[str, DatasetSource]) -> dict[str, Clips]:
        test = data["ave"].read("test")
        prompts = [self.config.template.format(d) for d in test.descriptions]
        return {"test": test, PROMPTS: Clips(ids=list(test.class_names), text=prompts)}

    def needs(self, direction: Direction, splits: dict[str, Clips]) -> list[tuple[str, str]]:
        return [("test", "audio"), (PROMPTS, "text")]

    def evaluate(self, embeddings: Embeddings, splits: dict[str, Clips], direction: Direction,
                 seed: int, device: str, progress: Progress) -> dict[str, float]:
        audio = pooled(embeddings[("test", "audio")])
        prompts = pooled(embeddings[(PROMPTS, "text")])
        scores, labels = audio @ prompts.T, splits["test"].labels["segment"]
        return {"accuracy": ave_accuracy(scores, labels, level="video"),
                **per_class_metrics("accuracy", splits["test"].class_names, ave_class_accuracy(scores, labels))}

"""`zeroshot`: classify AVE test audio by cosine to text prompts "the sound of <class>", as VIP-ANT does.

No head is trained. A clip's audio embedding is the mean of its segment embeddings; each class's
prompt is embedded by the method's text encoder. On the synthetic world the class is described
with the words its captions use (`avtbench.synth.vocab.PHRASES`); on real data with its name.
Accuracy is video-level over the 28 AVE classes, in percent.
"""
from __future__ import annotations

from dataclasses import dataclass


from avtbench.api import Clips, Direction, Embeddings, Progress, Task
from avtbench.data.context import DataContext
from avtbench.hookspecs import hookimpl
from avtbench.metrics.classification import ave_accuracy
from avtbench.synth.vocab import PHRASES

from .retrieval import pooled

PROMPTS = "prompts"


@dataclass
class ZeroShotConfig:
    template: str = "the sound of {}"


def class_descriptions(class_names: list[str], synthetic: bool) -> list[str]:
    return [PHRASES[c] if synthetic else c.lower() for c in class_names]


class ZeroShot(Task):
    name = "zeroshot"
    version = "1"
    directions = ("a2t",)
    main_metric = "accuracy"
    datasets = ("ave",)
    config_class = ZeroShotConfig
    summary = "zero-shot AVE audio classification by text prompts (no training)"

    def splits(self, data: DataContext) -> dict[str, Clips]:
        from avtbench.data.ave import read_ave

        test = read_ave(data.root("ave"), "test", level=data.level)
        described = class_descriptions(test.class_names, data.is_synthetic("ave"))
        prompts = [self.config.template.format(d) for d in described]
        return {"test": test, PROMPTS: Clips(ids=list(test.class_names), text=prompts)}

    def needs(self, direction: Direction, splits: dict[str, Clips]) -> list[tuple[str, str]]:
        return [("test", "audio"), (PROMPTS, "text")]

    def evaluate(self, embeddings: Embeddings, splits: dict[str, Clips], direction: Direction,
                 seed: int, device: str, progress: Progress) -> dict[str, float]:
        audio = pooled(embeddings[("test", "audio")])
        prompts = pooled(embeddings[(PROMPTS, "text")])
        return {"accuracy": ave_accuracy(audio @ prompts.T, splits["test"].labels["segment"], level="video")}


@hookimpl
def avtbench_tasks():
    return [ZeroShot]

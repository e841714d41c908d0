"""The held-out retrieval set: clips in the corpus format (read by the corpus reader) that no
pretraining corpus holds, for clip <-> clip and clip <-> caption retrieval; its card, the declaration
(`declaration.py`) and synthetic copy (`synthetic.py`)."""
from avtbench.cards import Card, DatasetCard
from avtbench.hookspecs import hookimpl
from avtbench_plugins.datasets.corpus import CORPUS_FORMAT

CARD = DatasetCard(
    name="retrieval",
    target="avtbench_plugins.datasets.retrieval.declaration:DATASET",
    format=f"held-out retrieval set: {CORPUS_FORMAT}",
)


@hookimpl
def avtbench_cards() -> list[Card]:
    return [CARD]

"""The held-out retrieval set: clips in the corpus format (read by the corpus reader) that no
pretraining corpus holds, for clip <-> clip and clip <-> caption retrieval; declaration and synthetic
copy (`synthetic.py`)."""
from __future__ import annotations

from avtbench.api import Dataset
from avtbench.hookspecs import hookimpl
from avtbench_plugins.datasets.corpus.reader import CORPUS_FORMAT, read_split

from .synthetic import COPY

DATASET = Dataset("retrieval", f"held-out retrieval set: {CORPUS_FORMAT}", read_split, synthetic=COPY)


@hookimpl
def avtbench_datasets() -> list[Dataset]:
    return [DATASET]

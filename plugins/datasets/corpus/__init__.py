"""The pretraining corpus, in avtbench's corpus format: declaration, reader (`reader.py`) and synthetic
copy (`synthetic.py`). The format has no class vocabulary of its own: a synthetic corpus names the
world's event classes in its events.h5."""
from __future__ import annotations

from avtbench.api import Dataset
from avtbench.hookspecs import hookimpl

from .reader import CORPUS_FORMAT, read_split
from .synthetic import COPY

DATASET = Dataset("corpus", f"pretraining corpus: {CORPUS_FORMAT}", read_split, synthetic=COPY)


@hookimpl
def avtbench_datasets() -> list[Dataset]:
    return [DATASET]

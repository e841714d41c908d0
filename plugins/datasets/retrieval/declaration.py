"""The retrieval set's declaration (an `avtbench.api.Dataset`, the target of its card in `__init__.py`):
the corpus reader and layout, and its own synthetic copy; name and format from the card."""
from __future__ import annotations

from avtbench.api import Dataset
from avtbench_plugins.datasets.corpus.extraction import EXTRACTION
from avtbench_plugins.datasets.corpus.layout import corpus_layout
from avtbench_plugins.datasets.corpus.reader import read_split

from . import CARD
from .synthetic import COPY

DATASET = Dataset(CARD.name, CARD.format, read_split, synthetic=COPY, layout=corpus_layout, extraction=EXTRACTION)

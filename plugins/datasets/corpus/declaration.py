"""The corpus's declaration (an `avtbench.api.Dataset`, the target of its card in `__init__.py`): its
reader, synthetic copy and layout; name and format from the card."""
from __future__ import annotations

from avtbench.api import Dataset

from . import CARD
from .extraction import EXTRACTION
from .layout import corpus_layout
from .reader import read_split
from .synthetic import COPY

DATASET = Dataset(CARD.name, CARD.format, read_split, synthetic=COPY, layout=corpus_layout, extraction=EXTRACTION)

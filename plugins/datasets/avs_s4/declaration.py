"""The avs_s4 dataset's declaration (an `avtbench.api.Dataset`, the target of its card in
`__init__.py`): its reader, splits, vocabulary, synthetic copy and extraction layout; name and format from the card."""
from __future__ import annotations

from avtbench.api import Dataset

from . import CARD
from .extraction import EXTRACTION
from .reader import SPLITS, read_s4
from .synthetic import COPY
from .vocab import CATEGORIES, CMG_PROMPTS

DATASET = Dataset(CARD.name, CARD.format, read_s4, SPLITS, tuple(CATEGORIES), CMG_PROMPTS, synthetic=COPY, extraction=EXTRACTION)

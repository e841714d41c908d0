"""The avvp dataset's declaration (an `avtbench.api.Dataset`, the target of its card in
`__init__.py`): its reader, splits, vocabulary, synthetic copy, layout and extraction layout; name and format from the card."""
from __future__ import annotations

from avtbench.api import Dataset

from . import CARD
from .extraction import EXTRACTION
from .layout import avvp_layout
from .reader import SPLIT_FILES, read_avvp
from .synthetic import COPY
from .vocab import AVVP_CLASSES

DATASET = Dataset(CARD.name, CARD.format, read_avvp, tuple(SPLIT_FILES), tuple(AVVP_CLASSES),
                  {c: c.replace("_", " ").lower() for c in AVVP_CLASSES}, synthetic=COPY, layout=avvp_layout,
                  extraction=EXTRACTION)

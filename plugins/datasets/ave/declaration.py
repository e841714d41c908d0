"""The ave dataset's declaration (an `avtbench.api.Dataset`, the target of its card in
`__init__.py`): its reader, splits, vocabulary and synthetic copy; name and format from the card."""
from __future__ import annotations

from avtbench.api import Dataset

from . import CARD
from .reader import SPLITS, read_ave
from .synthetic import COPY
from .vocab import AVE_CLASSES

DATASET = Dataset(CARD.name, CARD.format, read_ave, tuple(SPLITS), tuple(AVE_CLASSES), synthetic=COPY)

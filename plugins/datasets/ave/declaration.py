"""The ave dataset's declaration (an `avtbench.api.Dataset`, the target of its card in
`__init__.py`): its reader, splits, vocabulary, synthetic copy and layout; name and format from the card."""
from __future__ import annotations

from avtbench.api import Dataset

from . import CARD
from .layout import ave_layout
from .reader import SPLITS, read_ave
from .synthetic import COPY
from .vocab import AVE_CLASSES

DATASET = Dataset(CARD.name, CARD.format, read_ave, tuple(SPLITS), tuple(AVE_CLASSES), synthetic=COPY, layout=ave_layout)

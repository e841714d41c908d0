"""The ave dataset's declaration (an `avtbench.api.Dataset`, the target of its card in
`__init__.py`): its reader, splits, vocabulary, synthetic copy and layout; name and format from the card."""
from __future__ import annotations

from avtbench.api import Dataset

from avtbench_plugins.datasets.corpus.extraction import features_only

from . import CARD
from .layout import ave_layout
from .reader import SPLITS, read_ave
from .synthetic import COPY
from .vocab import AVE_CLASSES

EXTRACTION = features_only(10, "Annotations.txt (each video's category, quality, start and end, one row per line "
                           "of video_ids.txt in its order) and {train,val,test}_order.h5")
"""`avtbench extract --layout ave`: AVE's audio_feature.h5 and visual_feature.h5 ([N, 10, ...], rows in
video_ids.txt's order); the annotations are the user's to add."""

DATASET = Dataset(CARD.name, CARD.format, read_ave, tuple(SPLITS), tuple(AVE_CLASSES), synthetic=COPY, layout=ave_layout,
                  extraction=EXTRACTION)

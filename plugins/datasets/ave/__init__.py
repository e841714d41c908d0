"""AVE (Tian et al., ECCV 2018): declaration, reader (`reader.py`), vocabulary (`vocab.py`) and
synthetic copy (`synthetic.py`)."""
from __future__ import annotations

from avtbench.api import Dataset
from avtbench.hookspecs import hookimpl

from .reader import SPLITS, read_ave
from .synthetic import COPY
from .vocab import AVE_CLASSES

DATASET = Dataset("ave", "AVE-ECCV18 data/: Annotations.txt, audio_feature.h5, visual_feature.h5, {train,val,test}_order.h5",
                  read_ave, tuple(SPLITS), tuple(AVE_CLASSES), synthetic=COPY)


@hookimpl
def avtbench_datasets() -> list[Dataset]:
    return [DATASET]

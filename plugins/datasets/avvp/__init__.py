"""AVVP, the LLP dataset (Tian et al., ECCV 2020): declaration, reader (`reader.py`), vocabulary
(`vocab.py`) and synthetic copy (`synthetic.py`)."""
from __future__ import annotations

from avtbench.api import Dataset
from avtbench.hookspecs import hookimpl

from .reader import SPLIT_FILES, read_avvp
from .synthetic import COPY
from .vocab import AVVP_CLASSES

DATASET = Dataset("avvp", "AVVP-ECCV20: AVVP_{train,val_pd,test_pd}.csv, AVVP_eval_{audio,visual}.csv, feats/<name>/<id>.npy",
                  read_avvp, tuple(SPLIT_FILES), tuple(AVVP_CLASSES), {c: c.replace("_", " ").lower() for c in AVVP_CLASSES},
                  synthetic=COPY)


@hookimpl
def avtbench_datasets() -> list[Dataset]:
    return [DATASET]

"""Built-in datasets: AVE, AVVP, the pretraining corpus and the held-out retrieval set.

Declared through the same `avtbench_datasets` hook a third party uses; the readers live in
`avtbench.data` beside the real vocabularies.
"""
from __future__ import annotations

from pathlib import Path

from avtbench.api import Clips, Dataset
from avtbench.data.ave import SPLITS as AVE_SPLITS
from avtbench.data.ave import read_ave
from avtbench.data.avvp import SPLIT_FILES as AVVP_SPLITS
from avtbench.data.avvp import read_avvp
from avtbench.data.corpus import read_corpus
from avtbench.data.vocab import AVE_CLASSES, AVVP_CLASSES
from avtbench.hookspecs import hookimpl


def _read_whole(root: Path, split: str, level: str = "features") -> Clips:
    return read_corpus(root, level=level)


CORPUS_FORMAT = "audio_feature.h5, visual_feature.h5 (key avadataset), video_ids.txt, optional captions.tsv and events.h5"

DATASETS = [
    Dataset("ave", "AVE-ECCV18 data/: Annotations.txt, audio_feature.h5, visual_feature.h5, {train,val,test}_order.h5",
            read_ave, tuple(AVE_SPLITS), tuple(AVE_CLASSES)),
    Dataset("avvp", "AVVP-ECCV20: AVVP_{train,val_pd,test_pd}.csv, AVVP_eval_{audio,visual}.csv, feats/<name>/<id>.npy",
            read_avvp, tuple(AVVP_SPLITS), tuple(AVVP_CLASSES),
            {c: c.replace("_", " ").lower() for c in AVVP_CLASSES}),
    Dataset("corpus", f"pretraining corpus: {CORPUS_FORMAT}", _read_whole),
    Dataset("retrieval", f"held-out retrieval set: {CORPUS_FORMAT}", _read_whole),
]


@hookimpl
def avtbench_datasets() -> list[Dataset]:
    return list(DATASETS)

"""AVVP, the LLP dataset (Tian et al., ECCV 2020): its card; the declaration (`declaration.py`), reader
(`reader.py`), vocabulary (`vocab.py`) and synthetic copy (`synthetic.py`)."""
from avtbench.cards import Card, DatasetCard
from avtbench.hookspecs import hookimpl

from .vocab import AVVP_CLASSES

CARD = DatasetCard(
    name="avvp",
    target="avtbench_plugins.datasets.avvp.declaration:DATASET",
    format="AVVP-ECCV20: AVVP_{train,val_pd,test_pd}.csv, AVVP_eval_{audio,visual}.csv, feats/<name>/<id>.npy",
    splits=("train", "val", "test", "cmg_eval_audio", "cmg_eval_visual", "cmg_ave_avvp_audio",
            "cmg_ave_avvp_visual"),
    classes=len(AVVP_CLASSES),
)


@hookimpl
def avtbench_cards() -> list[Card]:
    return [CARD]

"""AVE (Tian et al., ECCV 2018): its card; the declaration (`declaration.py`), reader (`reader.py`),
vocabulary (`vocab.py`) and synthetic copy (`synthetic.py`)."""
from avtbench.cards import Card, DatasetCard
from avtbench.hookspecs import hookimpl

from .vocab import AVE_CLASSES

CARD = DatasetCard(
    name="ave",
    target="avtbench_plugins.datasets.ave.declaration:DATASET",
    format="AVE-ECCV18 data/: Annotations.txt, audio_feature.h5, visual_feature.h5, {train,val,test}_order.h5",
    splits=("train", "val", "test", "ave_avvp"),
    classes=len(AVE_CLASSES),
)


@hookimpl
def avtbench_cards() -> list[Card]:
    return [CARD]

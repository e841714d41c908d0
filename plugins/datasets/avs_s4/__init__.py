"""AVSBench S4 (AVSBench-object, single source; Zhou et al., ECCV 2022): its card; the declaration
(`declaration.py`), reader (`reader.py`), vocabulary and CMG's prompts (`vocab.py`) and synthetic copy
(`synthetic.py`)."""
from avtbench.cards import Card, DatasetCard
from avtbench.hookspecs import hookimpl

from .vocab import CATEGORIES

CARD = DatasetCard(
    name="avs_s4",
    target="avtbench_plugins.datasets.avs_s4.declaration:DATASET",
    format=("AVSBench S4 Single-source/: s4_meta_data.csv, s4_data/{visual_frames,gt_masks}/<split>/<category>/<name>/<name>_<k>.png, "
            "s4_data/audio_wav/<split>/<category>/<name>.wav (raw level), s4_data/audio_vggish/<split>/<category>/<name>.npy "
            "[5, D] (feature level), optional AVSBenchCategories2Prompts.csv"),
    splits=("train", "val", "test"),
    classes=len(CATEGORIES),
)


@hookimpl
def avtbench_cards() -> list[Card]:
    return [CARD]

"""AVSBench S4 (AVSBench-object, single source; Zhou et al., ECCV 2022): declaration, reader
(`reader.py`), vocabulary and CMG's prompts (`vocab.py`) and synthetic copy (`synthetic.py`)."""
from __future__ import annotations

from avtbench.api import Dataset
from avtbench.hookspecs import hookimpl

from .reader import SPLITS, read_s4
from .synthetic import COPY
from .vocab import CATEGORIES, CMG_PROMPTS

DATASET = Dataset(
    "avs_s4",
    "AVSBench S4 Single-source/: s4_meta_data.csv, s4_data/{visual_frames,gt_masks}/<split>/<category>/<name>/<name>_<k>.png, "
    "s4_data/audio_wav/<split>/<category>/<name>.wav (raw level), s4_data/audio_vggish/<split>/<category>/<name>.npy "
    "[5, D] (feature level), optional AVSBenchCategories2Prompts.csv",
    read_s4, SPLITS, tuple(CATEGORIES), CMG_PROMPTS, synthetic=COPY)


@hookimpl
def avtbench_datasets() -> list[Dataset]:
    return [DATASET]

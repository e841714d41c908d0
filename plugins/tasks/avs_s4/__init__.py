"""`avs_s4`: AVSBench S4 single-source audio-visual segmentation, cross-modal (a2t, t2a).

The plugin declares the task (`task.py`), the `avs_s4` dataset with its reader (`reader.py`), and the
plot `avs_s4_masks` (`plot.py`).
"""
from avtbench.hookspecs import hookimpl


@hookimpl
def avtbench_tasks():
    from .task import AVSS4

    return [AVSS4]


@hookimpl
def avtbench_datasets():
    from .reader import DATASET

    return [DATASET]


@hookimpl
def avtbench_plots():
    from .plot import MASKS_PLOT

    return [MASKS_PLOT]

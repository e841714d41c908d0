"""`avs_s4`: AVSBench S4 single-source audio-visual segmentation, cross-modal (a2t, t2a).

The plugin declares the task (`task.py`) and the plot `avs_s4_masks` (`plot.py`); the `avs_s4` dataset
it reads is declared by its own package, `avtbench_plugins.datasets.avs_s4`.
"""
from avtbench.hookspecs import hookimpl


@hookimpl
def avtbench_tasks():
    from .task import AVSS4

    return [AVSS4]


@hookimpl
def avtbench_plots():
    from .plot import MASKS_PLOT

    return [MASKS_PLOT]

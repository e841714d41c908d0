"""`avs_s4`: AVSBench S4 single-source audio-visual segmentation, cross-modal (a2t, t2a).

The plugin declares the task (`task.py`) and the plot `avs_s4_masks` (`plot.py`); the `avs_s4` dataset
it reads is declared by its own package, `avtbench_plugins.datasets.avs_s4`.
"""
from avtbench.cards import Card, PlotCard, TaskCard
from avtbench.hookspecs import hookimpl

CARD = TaskCard(
    name="avs_s4",
    target="avtbench_plugins.tasks.avs_s4.task:AVSS4",
    version="1",
    directions=("a2t", "t2a"),
    main_metric="miou",
    datasets=("avs_s4",),
    summary="AVSBench S4 segmentation conditioned on audio / text embeddings, mIoU and F-score (CMG's A2T, T2A)",
)

MASKS_CARD = PlotCard(
    name="avs_s4_masks",
    target="avtbench_plugins.tasks.avs_s4.plot:MASKS_PLOT",
    task="avs_s4",
    direction="a2t",
    summary="an avs_s4 cell's test frames, ground truth and predicted masks side by side (PNG)",
)


@hookimpl
def avtbench_cards() -> list[Card]:
    return [CARD, MASKS_CARD]

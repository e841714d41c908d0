"""`avs_s4`: AVSBench S4 single-source audio-visual segmentation, cross-modal (a2t, t2a).

The plugin declares the task (`task.py`), the plot `avs_s4_masks` (`plot.py`) and the report section
`masks` (`report.py`); the `avs_s4` dataset
it reads is declared by its own package, `avtbench_plugins.datasets.avs_s4`.
"""
from avtbench.cards import Card, PlotCard, TaskCard
from avtbench.hookspecs import hookimpl
from avtbench.report.sections import ReportSection

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


MASKS_SECTION = ReportSection(
    name="masks", title="Predicted masks", task="avs_s4", draw="avtbench_plugins.tasks.avs_s4.report:masks_section",
    summary="the test frames, ground truth and predicted masks the cell kept",
)


@hookimpl
def avtbench_report_sections() -> list[ReportSection]:
    return [MASKS_SECTION]

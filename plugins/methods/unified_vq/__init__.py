"""`unified_vq`: CMG / Uni-Code (NeurIPS 2023), a shared VQ codebook across audio, visual and text."""
from avtbench.cards import Card, MethodCard, PlotCard
from avtbench.hookspecs import hookimpl
from avtbench.report.sections import ReportSection

CARD = MethodCard(
    name="unified_vq",
    target="avtbench_plugins.methods.unified_vq.method:UnifiedVQ",
    version="4",
    modalities=("audio", "visual", "text"),
    summary="CMG / Uni-Code: shared VQ codebook with MM-EMA, CMCM, Cross-CPC and CLUB (NeurIPS 2023)",
)

CODEBOOK_CARD = PlotCard(
    name="codebook",
    target="avtbench_plugins.methods.unified_vq.usage:CODEBOOK_PLOT",
    method="unified_vq",
    summary="codes used by one modality only, shared, or dead, per pretraining epoch (the paper's Fig. 2)",
)

COMPARISON_CARD = PlotCard(
    name="codebook_comparison",
    target="avtbench_plugins.methods.unified_vq.usage:COMPARISON_PLOT",
    method="unified_vq",
    summary="codebook usage per epoch of several unified_vq variants side by side (CMG appendix Fig. 2: ours vs plain EMA)",
    several=True,
)


@hookimpl
def avtbench_cards() -> list[Card]:
    return [CARD, CODEBOOK_CARD, COMPARISON_CARD]


CODEBOOK_SECTION = ReportSection(
    name="codebook", title="Codebook usage", method="unified_vq",
    draw="avtbench_plugins.methods.unified_vq.report:codebook_section",
    summary="codes used by one modality only, shared, or dead, per pretraining epoch, from the record",
)


@hookimpl
def avtbench_report_sections() -> list[ReportSection]:
    return [CODEBOOK_SECTION]

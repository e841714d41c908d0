"""`cmcr`: C-MCR (Wang et al., NeurIPS 2023), frozen CLIP and CLAP connected through text."""
from avtbench.cards import Card, MethodCard
from avtbench.hookspecs import hookimpl

CARD = MethodCard(
    name="cmcr",
    target="avtbench_plugins.methods.cmcr.method:CMCR",
    version="1",
    modalities=("audio", "visual", "text"),
    summary=("C-MCR: frozen CLIP and CLAP connected through text by two projectors, no paired "
             "audio-visual data (NeurIPS 2023)"),
)


@hookimpl
def avtbench_cards() -> list[Card]:
    return [CARD]

"""`cca`: linear CCA on the corpus's paired segments, the classical cross-modal baseline."""
from avtbench.cards import Card, MethodCard
from avtbench.hookspecs import hookimpl

CARD = MethodCard(
    name="cca",
    target="avtbench_plugins.methods.cca.method:CCA",
    version="2",
    modalities=("audio", "visual", "text"),
    summary="linear CCA (generalised CCA for three views) on the corpus's paired segments",
)


@hookimpl
def avtbench_cards() -> list[Card]:
    return [CARD]

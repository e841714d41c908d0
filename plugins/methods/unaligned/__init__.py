"""`unaligned`: per-modality encoders with no cross-modal training, the lower bound."""
from avtbench.cards import Card, MethodCard
from avtbench.hookspecs import hookimpl

CARD = MethodCard(
    name="unaligned",
    target="avtbench_plugins.methods.unaligned.method:Unaligned",
    version="3",
    modalities=("audio", "visual", "text"),
    summary="lower bound: per-modality whitened PCA (text: bag of words), no cross-modal training",
)


@hookimpl
def avtbench_cards() -> list[Card]:
    return [CARD]

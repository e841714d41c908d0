"""`oracle`: encoders aligned with the synthetic corpus's latent event labels, an upper bound."""
from avtbench.cards import Card, MethodCard
from avtbench.hookspecs import hookimpl

CARD = MethodCard(
    name="oracle",
    target="avtbench_plugins.methods.oracle.method:Oracle",
    version="2",
    modalities=("audio", "visual"),
    summary="upper bound: modalities aligned with the synthetic corpus's latent events (labels and latents)",
)


@hookimpl
def avtbench_cards() -> list[Card]:
    return [CARD]

"""`vip_ant`: VIP-ANT (Zhao et al., NAACL 2022), audio tied to text through CLIP's image space."""
from avtbench.cards import Card, MethodCard
from avtbench.hookspecs import hookimpl

CARD = MethodCard(
    name="vip_ant",
    target="avtbench_plugins.methods.vip_ant.method:VipAnt",
    version="5",
    modalities=("audio", "visual", "text"),
    summary="VIP-ANT: audio ViT from CLIP's image tower aligned to frozen CLIP through frames (NAACL 2022)",
)


@hookimpl
def avtbench_cards() -> list[Card]:
    return [CARD]

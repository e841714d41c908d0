"""`vip_ant`: VIP-ANT (Zhao et al., NAACL 2022), audio tied to text through CLIP's image space."""
from avtbench.hookspecs import hookimpl


@hookimpl
def avtbench_methods():
    from .method import VipAnt

    return [VipAnt]

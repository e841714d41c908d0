"""`cmcr`: C-MCR (Wang et al., NeurIPS 2023), frozen CLIP and CLAP connected through text."""
from avtbench.hookspecs import hookimpl


@hookimpl
def avtbench_methods():
    from .method import CMCR

    return [CMCR]

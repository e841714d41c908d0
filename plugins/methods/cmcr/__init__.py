"""`cmcr`: C-MCR, connecting CLIP and CLAP through text (work in progress)."""
from avtbench.hookspecs import hookimpl


@hookimpl
def avtbench_methods():
    return []

"""`unified_vq`: CMG / Uni-Code (NeurIPS 2023), a shared VQ codebook across audio, visual and text."""
from avtbench.hookspecs import hookimpl


@hookimpl
def avtbench_methods():
    from .method import UnifiedVQ

    return [UnifiedVQ]


@hookimpl
def avtbench_plots():
    from .usage import CODEBOOK_PLOT

    return [CODEBOOK_PLOT]

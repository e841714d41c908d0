"""`unaligned`: per-modality encoders with no cross-modal training, the lower bound."""
from avtbench.hookspecs import hookimpl


@hookimpl
def avtbench_methods():
    from .method import Unaligned

    return [Unaligned]

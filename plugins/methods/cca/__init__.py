"""`cca`: linear CCA on the corpus's paired segments, the classical cross-modal baseline."""
from avtbench.hookspecs import hookimpl


@hookimpl
def avtbench_methods():
    from .method import CCA

    return [CCA]

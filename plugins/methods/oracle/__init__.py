"""`oracle`: encoders aligned with the synthetic corpus's latent event labels, an upper bound."""
from avtbench.hookspecs import hookimpl


@hookimpl
def avtbench_methods():
    from .method import Oracle

    return [Oracle]

"""`lg_cav_mae`: language-guided contrastive audio-visual MAE (work in progress)."""
from avtbench.hookspecs import hookimpl


@hookimpl
def avtbench_methods():
    return []

"""`avs_s4`: AVSBench single-source segmentation (work in progress)."""
from avtbench.hookspecs import hookimpl


@hookimpl
def avtbench_tasks():
    return []

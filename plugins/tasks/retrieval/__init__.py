"""`retrieval`: zero-training cross-modal retrieval between clips and captions (the task in `task.py`)."""
from avtbench.hookspecs import hookimpl


@hookimpl
def avtbench_tasks():
    from .task import Retrieval

    return [Retrieval]

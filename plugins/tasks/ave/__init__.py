"""`ave`: AVE event classification, cross-modal (the task in `task.py`; its head is shared, in `avtbench_plugins.tasks.heads`)."""
from avtbench.hookspecs import hookimpl


@hookimpl
def avtbench_tasks():
    from .task import AVE

    return [AVE]

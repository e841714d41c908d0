"""`zeroshot`: AVE audio classified by cosine to text prompts, no training (the task in `task.py`)."""
from avtbench.hookspecs import hookimpl


@hookimpl
def avtbench_tasks():
    from .task import ZeroShot

    return [ZeroShot]

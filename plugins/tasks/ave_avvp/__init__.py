"""`ave_avvp`: train on AVE, test on AVVP over their 12 shared classes, cross-modal (the task in `task.py`;
its segment head is shared, in `avtbench_plugins.tasks.heads`)."""
from avtbench.hookspecs import hookimpl


@hookimpl
def avtbench_tasks():
    from .task import AVEAVVP

    return [AVEAVVP]

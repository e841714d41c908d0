"""`ave`: AVE event classification, cross-modal (the task in `task.py`; its head is shared, in `avtbench_plugins.tasks.heads`)."""
from avtbench.cards import Card, TaskCard
from avtbench.hookspecs import hookimpl

CARD = TaskCard(
    name="ave",
    target="avtbench_plugins.tasks.ave.task:AVE",
    version="3",
    directions=("a2v", "v2a"),
    main_metric="accuracy",
    datasets=("ave",),
    summary=("AVE event classification (28 classes), video-level accuracy; protocol clean (test "
             "split) or cmg (train split)"),
)


@hookimpl
def avtbench_cards() -> list[Card]:
    return [CARD]

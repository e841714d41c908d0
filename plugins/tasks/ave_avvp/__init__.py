"""`ave_avvp`: train on AVE, test on AVVP over their 12 shared classes, cross-modal (the task in `task.py`;
its segment head is shared, in `avtbench_plugins.tasks.heads`)."""
from avtbench.cards import Card, TaskCard
from avtbench.hookspecs import hookimpl

CARD = TaskCard(
    name="ave_avvp",
    target="avtbench_plugins.tasks.ave_avvp.task:AVEAVVP",
    version="3",
    directions=("a2v", "v2a"),
    main_metric="f1",
    datasets=("ave", "avvp"),
    summary="train on AVE, test on AVVP, 12 shared classes, pooled F1",
)


@hookimpl
def avtbench_cards() -> list[Card]:
    return [CARD]

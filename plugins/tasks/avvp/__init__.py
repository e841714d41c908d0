"""`avvp`: AVVP event localization, cross-modal (the task in `task.py`; its segment head is shared, in
`avtbench_plugins.tasks.heads`)."""
from avtbench.cards import Card, TaskCard
from avtbench.hookspecs import hookimpl

CARD = TaskCard(
    name="avvp",
    target="avtbench_plugins.tasks.avvp.task:AVVP",
    version="3",
    directions=("a2v", "v2a"),
    main_metric="f1",
    datasets=("avvp",),
    summary="AVVP segment-level event localization: CMG pooled P/R/F1 and official segment/event F1",
)


@hookimpl
def avtbench_cards() -> list[Card]:
    return [CARD]

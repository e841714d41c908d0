"""`retrieval`: zero-training cross-modal retrieval between clips and captions (the task in `task.py`)."""
from avtbench.cards import Card, TaskCard
from avtbench.hookspecs import hookimpl

CARD = TaskCard(
    name="retrieval",
    target="avtbench_plugins.tasks.retrieval.task:Retrieval",
    version="2",
    directions=("a2v", "v2a", "a2t", "t2a", "v2t", "t2v"),
    main_metric="r1",
    datasets=("retrieval",),
    summary="clip<->clip and clip<->caption retrieval, R@1/5/10, median rank, mAP",
)


@hookimpl
def avtbench_cards() -> list[Card]:
    return [CARD]

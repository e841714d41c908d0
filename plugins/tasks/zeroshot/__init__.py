"""`zeroshot`: AVE audio classified by cosine to text prompts, no training (the task in `task.py`)."""
from avtbench.cards import Card, TaskCard
from avtbench.hookspecs import hookimpl

CARD = TaskCard(
    name="zeroshot",
    target="avtbench_plugins.tasks.zeroshot.task:ZeroShot",
    version="1",
    directions=("a2t",),
    main_metric="accuracy",
    datasets=("ave",),
    summary="zero-shot AVE audio classification by text prompts (no training)",
)


@hookimpl
def avtbench_cards() -> list[Card]:
    return [CARD]

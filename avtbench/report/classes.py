"""A task's page: per column (task / direction), the per-class scores of each method as bars.

Per-class scores are the record's `<metric>[<class>]` metrics (`avtbench.metrics.per_class`); each bar is
the mean over the seeds of that method that recorded it. The task's main metric comes first; any other
metric with per-class scores gets its own chart. A task that records none shows its cells only.
"""
from __future__ import annotations

import statistics
from pathlib import Path

from avtbench.metrics.per_class import split
from avtbench.report import charts
from avtbench.report.html import anchor, figure, slug, text
from avtbench.report.model import CellEntry, SiteModel, method_page


def column_of(entry: CellEntry) -> str:
    return entry.column or f"{entry.record.task}/{entry.record.direction}"


def merged_order(sequences: list[list[str]]) -> list[str]:
    """One order of every class the sequences name, each class placed after the one before it where first
    met: records list their classes in the dataset's order but leave out those they could not score."""
    order: list[str] = []
    for sequence in sequences:
        for i, name in enumerate(sequence):
            if name in order:
                continue
            if i > 0:  # after the class before it in this record (placed already)
                order.insert(order.index(sequence[i - 1]) + 1, name)
                continue
            after = next((n for n in sequence[1:] if n in order), None)  # else before the next one known
            order.insert(order.index(after) if after is not None else len(order), name)
    return order


def class_orders(entries: list[CellEntry]) -> dict[str, list[str]]:
    """metric -> its classes in the dataset's order (as the records wrote them)."""
    sequences: dict[str, list[list[str]]] = {}
    for entry in entries:
        for metric, scores in split(entry.record.metrics)[1].items():
            sequences.setdefault(metric, []).append(list(scores))
    return {metric: merged_order(lists) for metric, lists in sequences.items()}


def per_class_means(entries: list[CellEntry]) -> dict[str, dict[str, dict[str, float]]]:
    """metric -> method row -> class -> mean over the row's seeds that recorded it."""
    gathered: dict[str, dict[str, dict[str, list[float]]]] = {}
    for entry in entries:
        _, by_metric = split(entry.record.metrics)
        for metric, scores in by_metric.items():
            for cls, value in scores.items():
                gathered.setdefault(metric, {}).setdefault(entry.row or entry.record.method, {}) \
                    .setdefault(cls, []).append(value)
    return {metric: {row: {cls: statistics.fmean(v) for cls, v in by_class.items()} for row, by_class in sorted(rows.items())}
            for metric, rows in gathered.items()}


def task_body(model: SiteModel, task: str, root: Path, here: str) -> tuple[str, list[str]]:
    """The page's HTML and the charts it drew (site paths), the main metric's first."""
    entries = [e for e in model.cells if e.record.task == task]
    parts: list[str] = []
    images: list[str] = []
    for column in sorted({column_of(e) for e in entries}):
        mine = [e for e in entries if column_of(e) == column]
        main = mine[0].record.main_metric
        parts.append(f"<h2>{text(column)}</h2>")
        means, orders = per_class_means(mine), class_orders(mine)
        if not means:
            parts.append('<p class="note">its records carry no per-class scores.</p>')
        for metric in sorted(means, key=lambda m: (m != main, m)):
            image = f"img/classes/{slug(task)}/{slug(column.split('/', 1)[1])}-{slug(metric)}.png"
            charts.class_bars(means[metric], orders[metric], f"{column}: {metric} per class (mean over seeds)", metric,
                              root / image)
            rows = ", ".join(f"{row} ({sum(1 for e in mine if (e.row or e.record.method) == row)} seeds)"
                             for row in means[metric])
            parts.append(figure(here, image, f"{metric} per class, per method: {rows}"))
            images.append(image)
        parts.append(_cell_list(mine, here))
    return "\n".join(parts), images


def _cell_list(entries: list[CellEntry], here: str) -> str:
    lines = []
    for row in sorted({e.row or e.record.method for e in entries}):
        cells = sorted((e for e in entries if (e.row or e.record.method) == row), key=lambda e: e.record.seed)
        links = ", ".join(anchor(here, e.page, f"seed {e.record.seed}: {e.record.main_value:.1f}") for e in cells)
        lines.append(f"<li>{anchor(here, method_page(row), row)}: {links}</li>")
    return f"<ul>{''.join(lines)}</ul>"

"""The report's two generic pictures, drawn with matplotlib (Agg, PNG): per-class bars and training curves."""
from __future__ import annotations

import math
from pathlib import Path
from typing import Mapping, Sequence

PALETTE = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#b07aa1", "#76b7b2", "#edc948", "#ff9da7", "#9c755f",
           "#bab0ac")
DPI = 80
MAX_PANELS = 16
"""Training statistics drawn per figure at most (the first ones recorded); the page lists the rest."""


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    return plt


def class_bars(values: Mapping[str, Mapping[str, float]], classes: Sequence[str], title: str, xlabel: str,
               path: Path) -> Path:
    """Grouped horizontal bars: one group per class (in the order of `classes`, top down), one bar per row of
    `values` (method -> class -> score); a method without a class's score has no bar there."""
    plt = _pyplot()
    rows = list(values)
    classes = list(classes) + [c for scores in values.values() for c in scores if c not in classes]
    bar = 0.8 / max(len(rows), 1)
    height = min(2.0 + len(classes) * (0.12 * len(rows) + 0.12), 60.0)
    fig, ax = plt.subplots(figsize=(9.0, height))
    for i, row in enumerate(rows):
        ys = [k - 0.4 + bar * (i + 0.5) for k, c in enumerate(classes) if c in values[row]]
        xs = [values[row][c] for c in classes if c in values[row]]
        ax.barh(ys, xs, height=bar, color=PALETTE[i % len(PALETTE)], label=row)
    top = max((v for scores in values.values() for v in scores.values()), default=0.0)
    ax.set_xlim(0, top * 1.05 if top > 0 else 1.0)  # scores are >= 0: an all-zero chart still starts at 0
    ax.set_yticks(range(len(classes)), classes, fontsize=8)
    ax.invert_yaxis()
    ax.set_ylim(len(classes) - 0.5, -0.5)
    ax.set(title=title, xlabel=xlabel)
    ax.grid(axis="x", alpha=0.3)
    if rows:
        below = -0.6 / (height * (fig.subplotpars.top - fig.subplotpars.bottom))  # 0.6 inch under the axes
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, below), ncol=min(len(rows), 4), frameon=False, fontsize=8)
    return _save(fig, path)


def curves(series: Mapping[str, Mapping[str, Sequence[tuple[int, float]]]], title: str, path: Path) -> Path:
    """One panel per statistic (the first MAX_PANELS in first-met order), one line per series (a checkpoint:
    label -> statistic -> [(epoch, value)]), epochs on x."""
    plt = _pyplot()
    from matplotlib.ticker import MaxNLocator

    stats: list[str] = []
    for by_stat in series.values():
        stats.extend(s for s in by_stat if s not in stats)
    stats = stats[:MAX_PANELS]
    cols = min(4, max(len(stats), 1))
    lines = math.ceil(max(len(stats), 1) / cols)
    fig, axes = plt.subplots(lines, cols, figsize=(3.2 * cols, 2.4 * lines + 0.6), squeeze=False)
    fig.set_layout_engine(None)
    for k, ax in enumerate(axes.flat):
        if k >= len(stats):
            ax.axis("off")
            continue
        for i, (label, by_stat) in enumerate(series.items()):
            points = by_stat.get(stats[k], ())
            if points:
                epochs, values = zip(*points)
                ax.plot(epochs, values, marker="o", markersize=3, color=PALETTE[i % len(PALETTE)], label=label)
        ax.set_title(stats[k], fontsize=9)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
    if not stats:
        axes.flat[0].text(0.5, 0.5, "no per-epoch statistics recorded", ha="center", va="center")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    ncol = max(1, min(len(labels), 2 * cols))
    legend_rows = math.ceil(len(labels) / ncol) if handles else 0
    height = 2.4 * lines + 0.6 + 0.2 * legend_rows
    fig.set_size_inches(3.2 * cols, height)
    if handles:
        fig.legend(handles, labels, loc="lower center", ncol=ncol, frameon=False, fontsize=8)
    fig.suptitle(title, fontsize=10, y=1 - 0.1 / height, va="top")
    # fixed margins in inches: tight_layout would cost more than the drawing
    fig.subplots_adjust(left=0.6 / (3.2 * cols), right=0.98, top=1 - 0.62 / height,
                        bottom=(0.45 + 0.2 * legend_rows) / height, hspace=0.45, wspace=0.3)
    return _save(fig, path, tight=False)


def _save(fig, path: Path, tight: bool = True) -> Path:
    plt = _pyplot()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png", dpi=DPI, bbox_inches="tight" if tight else None)
    plt.close(fig)
    return path

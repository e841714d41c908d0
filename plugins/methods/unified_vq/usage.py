"""Codebook usage per pretraining epoch: which codes each modality chose (the paper's Fig. 2).

Per epoch and code, a bit mask of the modalities that chose the code at least once during the
epoch's training batches. Summaries count codes used by exactly one modality (`<m>_only`), by two
or more (`shared`) and by none (`dead`). The masks are stored as one int tensor so that they survive
the method's safetensors checkpoint.

Two drawings: `plot_codebook` (one pretrained method's counts per epoch: `avtbench plot codebook`) and
`plot_codebook_comparison` (several variants side by side, as CMG's appendix Figure 2 sets its model
beside a plain-EMA baseline: the suite `cmg-figure2` names it as its figure, `codebook_comparison`).
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import torch

from avtbench.plots import Plot
from torch import Tensor

PALETTE = ("#4e79a7", "#f28e2b", "#59a14f", "#b07aa1", "#bab0ac")


class CodebookUsage:
    """Accumulates code use over an epoch's batches; `history` holds one mask vector [M] per finished epoch."""

    def __init__(self, modalities: Sequence[str], size: int) -> None:
        self.modalities = tuple(modalities)
        self.size = size
        self._current = torch.zeros(size, dtype=torch.long)
        self.masks: list[Tensor] = []

    def observe(self, indices: Mapping[str, Tensor]) -> None:
        for bit, m in enumerate(self.modalities):
            if m in indices:
                used = torch.unique(indices[m].detach().reshape(-1).cpu())
                self._current[used] |= 1 << bit

    def end_epoch(self) -> dict[str, int]:
        self.masks.append(self._current.clone())
        self._current.zero_()
        return self.summary(self.masks[-1])

    def summary(self, mask: Tensor) -> dict[str, int]:
        used_by = torch.zeros_like(mask)
        for bit in range(len(self.modalities)):
            used_by += (mask >> bit) & 1
        counts = {f"{m}_only": int((mask == (1 << bit)).sum()) for bit, m in enumerate(self.modalities)}
        counts["shared"] = int((used_by >= 2).sum())
        counts["dead"] = int((used_by == 0).sum())
        return counts

    @property
    def history(self) -> list[dict[str, int]]:
        return [self.summary(mask) for mask in self.masks]

    def to_tensor(self) -> Tensor:
        """[epochs, M] int64 bit masks (bit i = modality i chose the code)."""
        if not self.masks:
            return torch.zeros(0, self.size, dtype=torch.long)
        return torch.stack(self.masks)

    @classmethod
    def from_tensor(cls, modalities: Sequence[str], masks: Tensor) -> "CodebookUsage":
        usage = cls(modalities, masks.shape[1])
        usage.masks = [row.clone().long() for row in masks]
        return usage


def plot_codebook(history: CodebookUsage | Iterable[Mapping[str, int]], path: str | Path) -> Path:
    """Write a stacked-area chart (matplotlib; the format from the suffix: .svg, .png, .pdf) of the
    codebook's usage per epoch: codes of one modality only, shared, dead (bars for one epoch)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    rows = history.history if isinstance(history, CodebookUsage) else [dict(r) for r in history]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    keys: list[str] = []
    for row in rows:
        keys.extend(k for k in row if k not in keys)
    order = [k for k in keys if k.endswith("_only")] + [k for k in ("shared", "dead") if k in keys]
    order += [k for k in keys if k not in order]
    epochs = list(range(1, len(rows) + 1))
    series = [[row.get(k, 0) for row in rows] for k in order]
    colors = [PALETTE[i % len(PALETTE)] for i in range(len(order))]
    labels = [k.replace("_", " ") for k in order]
    plt.rcParams["svg.fonttype"] = "none"  # labels stay text in an SVG
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    if len(rows) == 1:
        bottom = 0
        for values, color, label in zip(series, colors, labels):
            ax.bar(epochs, values, bottom=bottom, color=color, label=label, width=0.4)
            bottom += values[0]
    elif rows:
        ax.stackplot(epochs, *series, colors=colors, labels=labels, edgecolor="white", linewidth=0.5)
    else:
        ax.text(0.5, 0.5, "no epochs recorded", ha="center", va="center", transform=ax.transAxes)
    ax.set(title="Codebook usage per epoch", xlabel="epoch", ylabel="codes")
    if epochs:
        ax.set_xticks(epochs if len(epochs) <= 12 else epochs[:: max(1, len(epochs) // 10)])
    if order:
        ax.legend(loc="center left", bbox_to_anchor=(1.02, 0.5), frameon=False)
    fig.tight_layout()
    fig.savefig(path, metadata={"Date": None} if path.suffix == ".svg" else None)
    plt.close(fig)
    return path


def _draw_codebook(method, path: Path) -> Path:
    if method.usage is None:
        from avtbench.api import UserError

        raise UserError("this unified_vq checkpoint recorded no codebook usage; pretrain it again with --overwrite")
    return plot_codebook(method.usage, path)


CODEBOOK_PLOT = Plot("codebook", "unified_vq", _draw_codebook,
                     "codes used by one modality only, shared, or dead, per pretraining epoch (the paper's Fig. 2)")

FIGURE2_COLOURS = {"audio": "#d62728", "visual": "#1f77b4", "text": "#2ca02c", "shared": "#9467bd", "dead": "#111111"}
"""CMG's Figure 2: red audio only, blue visual only, purple shared, black inactive (text only: ours, green)."""


def _categories(usage: CodebookUsage) -> list[str]:
    """The categories of a code, in drawing order: each modality alone, shared, dead."""
    return [*usage.modalities, "shared", "dead"]


def _code_map(usage: CodebookUsage, mask: Tensor, categories: list[str]) -> Tensor:
    """[side, side] category index of each code (row-major; -1 pads the square), as `categories` orders them."""
    side = math.ceil(math.sqrt(usage.size))
    used_by = torch.zeros_like(mask)
    for bit in range(len(usage.modalities)):
        used_by += (mask >> bit) & 1
    index = torch.full((usage.size,), categories.index("shared"), dtype=torch.long)
    index[used_by == 0] = categories.index("dead")
    for bit, modality in enumerate(usage.modalities):
        index[mask == (1 << bit)] = categories.index(modality)
    padded = torch.full((side * side,), -1, dtype=torch.long)
    padded[: usage.size] = index
    return padded.reshape(side, side)


def plot_codebook_comparison(labelled: Sequence[tuple[str, CodebookUsage]], path: str | Path) -> Path:
    """Write one row per variant (label, usage): the codes used by each modality alone, by several (shared)
    and by none (dead), per epoch, as stacked counts, then the codebook itself after each epoch, one
    square of codes per epoch coloured as CMG's Figure 2 (matplotlib; the format from the suffix)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    if not labelled:
        raise ValueError("nothing to draw: no variant given")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    epochs = max(1, max(len(usage.masks) for _, usage in labelled))
    plt.rcParams["svg.fonttype"] = "none"
    fig, axes = plt.subplots(len(labelled), epochs + 1, squeeze=False, figsize=(max(8.0, 2.6 + 1.5 * epochs), 2.3 * len(labelled)),
                             gridspec_kw={"width_ratios": [2.4] + [1] * epochs})
    legend: dict[str, str] = {}
    for (label, usage), row in zip(labelled, axes):
        categories = _categories(usage)
        colours = [FIGURE2_COLOURS.get(c, PALETTE[i % len(PALETTE)]) for i, c in enumerate(categories)]
        legend.update({("shared" if c == "shared" else "dead" if c == "dead" else f"{c} only"): colour
                       for c, colour in zip(categories, colours)})
        history = usage.history
        series = [[h.get(f"{c}_only" if c in usage.modalities else c, 0) for h in history] for c in categories]
        chart = row[0]
        steps = list(range(1, len(history) + 1))
        if len(history) > 1:
            chart.stackplot(steps, *series, colors=colours, edgecolor="white", linewidth=0.4)
        elif history:
            bottom = 0
            for values, colour in zip(series, colours):
                chart.bar(steps, values, bottom=bottom, color=colour, width=0.4)
                bottom += values[0]
        chart.set(title=label, xlabel="epoch", ylabel="codes", ylim=(0, usage.size))
        chart.set_xticks(steps or [1])
        cmap = ListedColormap(["white", *colours])
        for e, ax in enumerate(row[1:]):
            ax.set_xticks([])
            ax.set_yticks([])
            if e < len(usage.masks):
                codes = _code_map(usage, usage.masks[e], categories) + 1
                ax.imshow(codes.numpy(), cmap=cmap, vmin=0, vmax=len(categories), interpolation="nearest")
                ax.set_title(f"epoch {e + 1}", fontsize=8)
            else:
                ax.axis("off")
    fig.legend(handles=[Patch(color=c, label=k) for k, c in legend.items()], loc="lower center", ncol=len(legend),
               frameon=False)
    fig.suptitle("Codebook usage per epoch")
    fig.tight_layout(rect=(0, 0.07, 1, 0.97))
    fig.savefig(path, metadata={"Date": None} if path.suffix == ".svg" else None)
    plt.close(fig)
    return path


def _draw_comparison(labelled_methods: Sequence[tuple[str, object]], path: Path) -> Path:
    labelled = []
    for label, method in labelled_methods:
        usage = getattr(method, "usage", None)
        if usage is None:
            from avtbench.api import UserError

            raise UserError(f"{label}: this unified_vq checkpoint recorded no codebook usage; pretrain it again with --overwrite")
        labelled.append((label, usage))
    return plot_codebook_comparison(labelled, path)


COMPARISON_PLOT = Plot.of_methods(
    "codebook_comparison", "unified_vq", _draw_comparison,
    "codebook usage per epoch of several unified_vq variants side by side (CMG appendix Fig. 2: ours vs plain EMA)")

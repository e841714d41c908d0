"""Draws docs/architecture.png, the picture of docs/architecture.md: `python docs/architecture_figure.py`."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch  # noqa: E402

BOXES = {
    # name: (x, y, width, height, colour, text)
    "cli": (0.5, 8.6, 9.0, 0.9, "#dbe9f6", "cli.py: run, table, list, status, check, plot, report + plugins' commands (lazy discovery)"),
    "plan": (0.5, 7.1, 4.2, 1.0, "#dbe9f6", "plan.py: grid -> PlannedCells\n(configs validated, checkpoint key once)"),
    "exec": (5.3, 7.1, 4.2, 1.0, "#dbe9f6", "executors/: serial | ray | slurm\nstage 1 checkpoints, stage 2 cells (Job = one cell)"),
    "runner": (0.5, 5.5, 4.2, 1.0, "#dbe9f6", "runner.py + recording.py: pretrain (cached)\n-> encode (cached) -> task -> CellRecord"),
    "store": (5.3, 5.5, 4.2, 1.0, "#dbe9f6", "store.py + record.py: one JSON per cell\n(CellRecord / CellFailure) -> tables.py, report/"),
    "registry": (0.5, 3.9, 9.0, 1.0, "#fbe5c8", "plugins.py + hookspecs.py: entry points of group \"avtbench\" -> Registry\n"
                                                  "api.py: the contracts (Method, Task, Dataset, Clips)   toolkit/: helpers for plugin authors"),
    "methods": (0.5, 2.3, 2.8, 1.0, "#fde9d9", "plugins/methods/*\n(unified_vq, cca, ...)"),
    "tasks": (3.6, 2.3, 2.8, 1.0, "#fde9d9", "plugins/tasks/*\n(ave, avvp, retrieval, ...)"),
    "datasets": (6.7, 2.3, 2.8, 1.0, "#fde9d9", "plugins/datasets/*\nreader, vocab, synthetic writer"),
    "lower": (0.5, 0.6, 9.0, 1.1, "#e2f0d9", "data/ (lazy rows: HDF5, .npy, memory maps; DataLoader batches)   cache.py (checkpoints, embeddings)\n"
                                               "backbones/ (hub id, path or synth://)   metrics/   synth/ (the synthetic world: writers by registry)"),
}
ARROWS = [("cli", "plan"), ("cli", "exec"), ("plan", "exec"), ("exec", "runner"), ("runner", "store"), ("exec", "store"),
          ("runner", "registry"), ("registry", "methods"), ("registry", "tasks"),
          ("registry", "datasets"), ("methods", "lower"), ("tasks", "lower"), ("datasets", "lower")]


def centre(name: str, side: str) -> tuple[float, float]:
    x, y, w, h = BOXES[name][:4]
    return {"top": (x + w / 2, y + h), "bottom": (x + w / 2, y), "left": (x, y + h / 2), "right": (x + w, y + h / 2)}[side]


def main(out: Path = Path(__file__).with_name("architecture.png")) -> Path:
    fig, ax = plt.subplots(figsize=(10, 10))
    for x, y, w, h, colour, text in BOXES.values():
        ax.add_patch(FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0.05", facecolor=colour, edgecolor="#555555"))
        ax.text(x + w / 2, y + h / 2, text, ha="center", va="center", fontsize=8.5)
    for a, b in ARROWS:
        ya, yb = BOXES[a][1], BOXES[b][1]
        start, end = (centre(a, "bottom"), centre(b, "top")) if ya > yb else (centre(a, "right"), centre(b, "left"))
        ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=12, color="#333333", lw=1))
    ax.text(0.5, 9.75, "avtbench: layers point down; the core (blue, orange, green) names no method, task or dataset; plugins (pink) are reached through entry points",
            fontsize=9, weight="bold")
    ax.set_xlim(0, 10)
    ax.set_ylim(0.3, 10.1)
    ax.axis("off")
    fig.savefig(out, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return out


if __name__ == "__main__":
    print(main())

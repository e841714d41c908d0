"""Codebook usage per pretraining epoch: which codes each modality chose (the paper's Fig. 2).

Per epoch and code, a bit mask of the modalities that chose the code at least once during the
epoch's training batches. Summaries count codes used by exactly one modality (`<m>_only`), by two
or more (`shared`) and by none (`dead`). The masks are stored as one int tensor so that they survive
the method's safetensors checkpoint.
"""
from __future__ import annotations

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
    """Write an SVG stacked-area chart of the codebook's usage per epoch (bars when there is one epoch)."""
    rows = history.history if isinstance(history, CodebookUsage) else [dict(r) for r in history]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    keys: list[str] = []
    for row in rows:
        keys.extend(k for k in row if k not in keys)
    order = [k for k in keys if k.endswith("_only")] + [k for k in ("shared", "dead") if k in keys]
    order += [k for k in keys if k not in order]
    width, height, left, right, top, bottom = 640, 360, 56, 150, 30, 44
    plot_w, plot_h = width - left - right, height - top - bottom
    total = max((sum(r.get(k, 0) for k in order) for r in rows), default=0) or 1
    n = len(rows)

    def x_at(i: float) -> float:
        return left + (plot_w * (i / (n - 1)) if n > 1 else plot_w / 2)

    def y_at(v: float) -> float:
        return top + plot_h * (1 - v / total)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
             f'<text x="{left}" y="18" font-size="14">Codebook usage per epoch</text>']
    base = [0.0] * n
    for ki, key in enumerate(order):
        color = PALETTE[ki % len(PALETTE)]
        upper = [base[i] + rows[i].get(key, 0) for i in range(n)]
        if n == 1:
            bar = plot_w / 4
            parts.append(f'<rect x="{x_at(0) - bar / 2:.1f}" y="{y_at(upper[0]):.1f}" width="{bar:.1f}" '
                         f'height="{y_at(base[0]) - y_at(upper[0]):.1f}" fill="{color}"/>')
        elif n > 1:
            points = [(x_at(i), y_at(upper[i])) for i in range(n)] + [(x_at(i), y_at(base[i])) for i in reversed(range(n))]
            coords = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
            parts.append(f'<polygon points="{coords}" fill="{color}" stroke="white" stroke-width="0.5"/>')
        ly = top + 16 * ki
        parts.append(f'<rect x="{width - right + 12}" y="{ly}" width="12" height="12" fill="{color}"/>')
        parts.append(f'<text x="{width - right + 30}" y="{ly + 10}">{key.replace("_", " ")}</text>')
        base = upper
    parts.append(f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="black"/>')
    parts.append(f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}" stroke="black"/>')
    for frac in (0.0, 0.5, 1.0):
        value = total * frac
        parts.append(f'<text x="{left - 6}" y="{y_at(value) + 4:.1f}" text-anchor="end">{value:.0f}</text>')
    ticks = range(n) if n <= 12 else sorted({round(i * (n - 1) / 10) for i in range(11)})
    for i in ticks:
        parts.append(f'<text x="{x_at(i):.1f}" y="{top + plot_h + 16}" text-anchor="middle">{i + 1}</text>')
    parts.append(f'<text x="{left + plot_w / 2}" y="{height - 8}" text-anchor="middle">epoch</text>')
    parts.append(f'<text x="14" y="{top + plot_h / 2}" transform="rotate(-90 14 {top + plot_h / 2})" '
                 'text-anchor="middle">codes</text>')
    if n == 0:
        parts.append(f'<text x="{left + plot_w / 2}" y="{top + plot_h / 2}" text-anchor="middle">no epochs recorded</text>')
    parts.append("</svg>")
    path.write_text("\n".join(parts) + "\n")
    return path


def _draw_codebook(method, path: Path) -> Path:
    if method.usage is None:
        from avtbench.api import UserError

        raise UserError("this unified_vq checkpoint recorded no codebook usage; pretrain it again with --overwrite")
    return plot_codebook(method.usage, path)


CODEBOOK_PLOT = Plot("codebook", "unified_vq", _draw_codebook,
                     "codes used by one modality only, shared, or dead, per pretraining epoch (the paper's Fig. 2)")

"""The report section `codebook`: a unified_vq cell's codebook usage per pretraining epoch, from its record,
drawn once per checkpoint (the cells of one checkpoint show one picture).

The pretraining records the usage of each epoch in its stats (`epoch<e>.codes_<modality>_only`,
`codes_shared`, `codes_dead`; `method.py`), so the section reads the cell's record alone, no checkpoint.
Checkpoints trained before the per-modality counts were recorded keep `codes_shared` and `codes_dead` only:
their single-modality codes are drawn as one band, the codebook size (from the record's config) less the
other two.
"""
from __future__ import annotations

from avtbench.report.sections import Figure, SectionCell, SectionContent
from avtbench.toolkit import read_epoch_stats

from .usage import plot_codebook

PREFIX = "codes_"


def usage_rows(stats: dict, codebook_size: int | None) -> list[dict[str, int]]:
    """One mapping per epoch (`<m>_only`, `shared`, `dead` -> codes), from a record's pretraining stats."""
    curves = {name[len(PREFIX):]: dict(points) for name, points in read_epoch_stats(stats).items()
              if name.startswith(PREFIX)}
    epochs = sorted({e for points in curves.values() for e in points})
    rows = [{key: int(points[e]) for key, points in curves.items() if e in points} for e in epochs]
    for row in rows:
        if codebook_size and not any(k.endswith("_only") for k in row) and {"shared", "dead"} <= set(row):
            row["one_modality_only"] = codebook_size - row["shared"] - row["dead"]
    return rows


def codebook_section(cell: SectionCell) -> SectionContent | None:
    """The usage chart of the cell's checkpoint and its last epoch in numbers; None when nothing was recorded."""
    method_config = cell.record.config.get("method") or {}
    size = method_config.get("codebook_size") if isinstance(method_config, dict) else None
    rows = usage_rows(cell.record.pretrain.stats, size if isinstance(size, int) else None)
    if not rows:
        return None
    path = cell.shared(f"codebook-{cell.record.pretrain.checkpoint or cell.record.cell_hash}.png")
    if not path.is_file():  # drawn once per checkpoint: the cells that share it show the same picture
        plot_codebook(rows, path)
    last = rows[-1]
    facts = tuple((key.replace("_", " "), str(value)) for key, value in last.items())
    return SectionContent(
        figures=(Figure(path, f"codes used per epoch by one modality only, by several (shared), by none (dead); "
                              f"checkpoint {cell.record.pretrain.checkpoint}"),),
        facts=(("epochs", str(len(rows))), *facts))

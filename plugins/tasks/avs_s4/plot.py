"""The plot `avs_s4_masks`: frames, ground truth and predicted masks of an `avs_s4` cell, side by side.

`avtbench plot avs_s4_masks -m unified_vq --set unified_vq.modalities=audio,visual,text --out masks.png`
draws the masks the a2t cell of that method kept (`avs_s4.keep_masks` test clips, `samples.py`):
the cell is read from the result store (`--results`), or run and recorded there first, under the
same settings `avtbench run` takes (`-d t2a` for the other direction).
"""
from __future__ import annotations

from pathlib import Path

from avtbench.plots import Plot

from .samples import NPZ, MaskSamples, draw_masks


def draw_cell_masks(cell, out: Path) -> Path:
    """Draw the masks `cell` (an `avtbench.toolkit.CellRun` of `avs_s4`) kept, to `out` (PNG)."""
    return draw_masks(MaskSamples.load(cell.artifact(NPZ)), Path(out))


MASKS_PLOT = Plot.of_cell("avs_s4_masks", "avs_s4", "a2t", draw_cell_masks,
                          "an avs_s4 cell's test frames, ground truth and predicted masks side by side (PNG)",
                          artifacts=(NPZ,))

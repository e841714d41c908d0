"""The report section `masks`: the test frames, ground truth and predicted masks an `avs_s4` cell kept.

It draws the arrays the task keeps beside each record (`avs_s4_masks.npz`, `samples.py`) as the cell plot
`avs_s4_masks` does; a cell whose record has no such file (written with `keep_masks=0`) shows nothing.
"""
from __future__ import annotations

from avtbench.report.sections import Figure, SectionCell, SectionContent

from .samples import NPZ, MaskSamples, draw_masks


def masks_section(cell: SectionCell) -> SectionContent | None:
    kept = cell.artifact(NPZ)
    if kept is None:
        return None
    samples = MaskSamples.load(kept)
    path = draw_masks(samples, cell.image("masks.png"))
    ious = ", ".join(f"{100 * v:.1f}" for v in samples.iou)
    return SectionContent(figures=(Figure(path, samples.title),),
                          facts=(("clips kept", str(len(samples.ids))), ("their IoU (%)", ious or "none")))

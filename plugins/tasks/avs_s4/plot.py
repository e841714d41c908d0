"""The plot `avs_s4_masks`: frames, ground truth and predicted masks of an `avs_s4` a2t cell, side by side.

`avtbench plot avs_s4_masks --set unified_vq.modalities=audio,visual,text --out masks.png` pretrains
(or loads) unified_vq, CMG's method, then runs the default `avs_s4` a2t cell of that seed (the
model trained conditioned on audio, tested with the captions) on the `avs_s4` dataset of the
default data settings, and draws the first test clips (`samples.draw_masks`). A plot receives only
its pretrained method (`avtbench.plots.Plot`), so the `data` and `avs_s4` settings are the
defaults whatever `--set` says; `draw_cell_masks` takes them for other uses. Embeddings come from,
and go to, the same cache as the cells'.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from avtbench.api import Direction, Method, SilentProgress, UserError
from avtbench.plots import Plot

from .samples import draw_masks
from .task import AVSS4, AVSS4Config

PLOT_METHOD = "unified_vq"


def draw_cell_masks(method: Method, out: Path, direction: str = "a2t", document: dict[str, Any] | None = None,
                    config: AVSS4Config | None = None) -> Path:
    """Run one `avs_s4` cell with the pretrained `method` and draw its kept test clips to `out` (PNG).

    document: the settings the data come from (`{"data": {...}}`, as `avtbench run` reads them)."""
    from avtbench.cache import ArtifactCache
    from avtbench.plan import data_resolver
    from avtbench.plugins import registry
    from avtbench.runner import DeclaredSources, Runner

    d = Direction.parse(direction)
    missing = [m for m in (d.source, d.target) if m not in method.modalities_for(method.config)]
    if missing:
        raise UserError(f"{method.name} does not encode {missing[0]} under this config, which {d.name} needs; "
                        f"pretrain it with {missing[0]} (for unified_vq: --set unified_vq.modalities=audio,visual,text)")
    cache = ArtifactCache(method.cache_dir)
    data = data_resolver(registry(), document or {}, cache)
    task = AVSS4(config or AVSS4Config())
    splits = task.splits(DeclaredSources(task, {"avs_s4": data.source("avs_s4", method.input_level)}))
    runner = Runner(None, cache, data, method.device)
    key = runner.checkpoint_key(type(method), method.config, method.seed)
    embeddings = {(s, m): runner.embed(method, key, splits[s], m) for s, m in task.needs(d, splits)}
    task.evaluate(embeddings, splits, d, method.seed, method.device, SilentProgress())
    assert task.samples is not None
    return draw_masks(task.samples, Path(out))


MASKS_PLOT = Plot("avs_s4_masks", PLOT_METHOD, draw_cell_masks,
                  "avs_s4 a2t with unified_vq: test frames, ground truth and predicted masks side by side (PNG)")

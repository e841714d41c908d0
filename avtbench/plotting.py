"""`avtbench plot NAME --method M`: a pretrained method's own named plots."""
from __future__ import annotations

from pathlib import Path

from rich.console import Console

from avtbench import config as cfg
from avtbench.api import UserError
from avtbench.cache import ArtifactCache
from avtbench.data.context import DataConfig
from avtbench.plugins import registry
from avtbench.progress import RichProgress
from avtbench.runner import DATA_SECTION, Runner, resolve_device
from avtbench.store import ResultStore


def draw_method_plot(name: str, method_name: str, seed: int, document: cfg.Document, cache_dir: str | None,
                     device: str, out_path: Path, console: Console) -> Path:
    method_cls = registry().method(method_name)
    method_config = cfg.build(method_cls.config_class, document.get(method_name, {}), method_name)
    data_config = cfg.build(DataConfig, document.get(DATA_SECTION, {}), DATA_SECTION)
    with RichProgress(console) as progress:
        runner = Runner(ResultStore("."), ArtifactCache(cache_dir), data_config, resolve_device(device), progress, console.log)
        method, _ = runner.pretrained_method(method_cls, method_config, seed)
    plots = method.plots()
    if name not in plots:
        available = ", ".join(sorted(plots)) or "none"
        raise UserError(f"method {method_name!r} has no plot {name!r}; its plots: {available}")
    return plots[name](out_path)

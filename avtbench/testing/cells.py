"""`run_cell`: one cell end to end on the tiny world, through the real plan and runner."""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any, MutableMapping

from avtbench import config as cfg
from avtbench.api import Method, Task, UserError
from avtbench.record import CellRecord
from avtbench.testing.world import TINY_DATA, _one_thread, scratch_dir


def run_cell(method: str | type[Method], task: str | type[Task], direction: str, seed: int = 0,
             settings: dict[str, dict[str, Any]] | None = None, cache_dir: Path | None = None) -> CellRecord:
    """One cell end to end on the tiny world (pretrain, encode, fit, evaluate) through the real plan and
    runner; returns the record that `avtbench run` would write (`record.metrics`, `record.main_value`,
    ...). Classes need not be installed."""
    from avtbench.cache import ArtifactCache
    from avtbench.plan import make_plan
    from avtbench.plugins import registry as installed
    from avtbench.recording import record_cell
    from avtbench.runner import Runner
    from avtbench.store import ResultStore

    registry = installed().copy()
    method_name = _register(method, registry.methods)
    task_name = _register(task, registry.tasks)
    document = cfg.merge({"data": dict(TINY_DATA)}, settings or {})
    cache = ArtifactCache(cache_dir or scratch_dir())
    plan = make_plan(registry, [method_name], [task_name], [direction], [seed], document, cache)
    if not plan.cells:
        raise UserError(plan.skipped[0] if plan.skipped else f"no cell for {method_name} / {task_name} / {direction}")
    results = Path(tempfile.mkdtemp(dir=cache.root if cache.root.is_dir() else None))
    try:
        with _one_thread():
            return record_cell(ResultStore(results), Runner(cache, plan.data), plan.cells[0])
    finally:
        shutil.rmtree(results, ignore_errors=True)


def _register(plugin: str | type, into: MutableMapping[str, Any]) -> str:
    if isinstance(plugin, str):
        return plugin
    into[plugin.name] = plugin
    return plugin.name

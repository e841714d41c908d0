"""`check_task`: does a Task keep the contract?"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from avtbench.api import Clips, Direction, SilentProgress, Task
from avtbench.testing.report import Report, _fail, _Recorder
from avtbench.testing.world import _check_config, _one_thread, scratch_dir, tiny_sources


def check_task(task_cls: type[Task], settings: dict[str, Any] | None = None, cache_dir: Path | None = None,
               seed: int = 0, registry: Any = None) -> Report:
    """Does `task_cls` keep the Task contract? Directions parse, datasets are declared, the main metric
    comes back finite on random embeddings of the right shapes (every direction), lower-is-better
    metrics exist, and the same seed gives the same metrics."""
    from avtbench.plugins import registry as installed

    rec = _Recorder(f"task {getattr(task_cls, 'name', task_cls.__name__)}")
    if not (isinstance(task_cls, type) and issubclass(task_cls, Task)):
        rec.run("is a Task", lambda: _fail(f"{task_cls!r} is not a subclass of avtbench.api.Task"))
        return rec.report
    known = (registry or installed()).datasets
    config = _check_config(rec, task_cls.config_class, task_cls.name, settings, task_cls.validate)
    directions: list[Direction] = []

    def parse() -> str:
        if not task_cls.directions:
            raise AssertionError("declares no directions")
        directions.extend(Direction.parse(d) for d in task_cls.directions)
        return ", ".join(task_cls.directions)

    def declared() -> str:
        if not task_cls.datasets:
            raise AssertionError("declares no datasets (Task.datasets)")
        unknown = [d for d in task_cls.datasets if d not in known]
        if unknown:
            raise AssertionError(f"dataset {unknown[0]!r} is declared by no installed plugin")
        return ", ".join(task_cls.datasets)

    rec.run("directions parse", parse)
    has_data = rec.run("datasets are declared", declared)
    later = ("main metric finite on random embeddings", "lower-is-better metrics are returned", "same seed, same metrics")
    if config is None or not directions or not has_data:
        for check in later:
            rec.skip(check, "config, directions or datasets failed")
        return rec.report
    with _one_thread():
        _check_task_metrics(rec, task_cls, config, directions, cache_dir or scratch_dir(), seed, registry, later)
    return rec.report


def _check_task_metrics(rec: _Recorder, task_cls: type[Task], config: Any, directions: list[Direction], cache: Path,
                        seed: int, registry: Any, checks: tuple[str, ...]) -> None:
    from avtbench.runner import DeclaredSources

    data = tiny_sources(cache, registry)
    results: dict[str, dict[str, float]] = {}

    def metrics() -> str:
        task = task_cls(config)
        splits = task.splits(DeclaredSources(task, {n: data.source(n) for n in task_cls.datasets}))
        for direction in directions:
            embeddings = _random_embeddings(task, direction, splits, seed)
            out = task.evaluate(embeddings, splits, direction, seed, "cpu", SilentProgress())
            _check_metric_values(task_cls, out)
            results[direction.name] = dict(out)
        main = {d: round(float(m[task_cls.main_metric]), 3) for d, m in results.items()}
        return f"{task_cls.main_metric}: {main}"

    if not rec.run(checks[0], metrics):
        rec.skip(checks[1], "no metrics")
        rec.skip(checks[2], "no metrics")
        return

    def lower() -> str:
        missing = [m for m in task_cls.lower_is_better for r in results.values() if m not in r]
        if missing:
            raise AssertionError(f"lower-is-better metric {missing[0]!r} is not among the returned metrics")
        return ", ".join(task_cls.lower_is_better) or "none declared"

    def seeded() -> str:
        task = task_cls(config)
        splits = task.splits(DeclaredSources(task, {n: data.source(n) for n in task_cls.datasets}))
        for direction in directions:
            again = task.evaluate(_random_embeddings(task, direction, splits, seed), splits, direction, seed, "cpu",
                                  SilentProgress())
            if dict(again) != results[direction.name]:
                changed = sorted(k for k in again if again.get(k) != results[direction.name].get(k))
                raise AssertionError(f"{direction.name}: {changed[0] if changed else 'the metric names'} changed between two runs with seed {seed}")
        return f"seed {seed} twice: identical metrics"

    rec.run(checks[1], lower)
    rec.run(checks[2], seeded)


def _random_embeddings(task: Task, direction: Direction, splits: dict[str, Clips], seed: int, dim: int = 16) -> dict:
    """Embeddings [N, T, dim] for every (split, modality) the task needs: T from the clips' segments (1 for text)."""
    rng = np.random.default_rng(seed)
    out = {}
    for split, modality in task.needs(direction, splits):
        clips = splits[split]
        data = clips.modality(modality)
        steps = data.shape[1] if hasattr(data, "shape") and len(data.shape) >= 2 and modality != "text" else 1
        out[(split, modality)] = rng.standard_normal((len(clips), steps, dim)).astype(np.float32)
    return out


def _check_metric_values(task_cls: type[Task], metrics: Any) -> None:
    if not isinstance(metrics, dict):
        raise AssertionError(f"evaluate returned {type(metrics).__name__}, not a dict of metrics")
    if task_cls.main_metric not in metrics:
        raise AssertionError(f"evaluate returned no {task_cls.main_metric!r} (its main metric)")
    for name, value in metrics.items():
        if not isinstance(value, (int, float, np.floating, np.integer)) or not math.isfinite(float(value)):
            raise AssertionError(f"metric {name!r} is {value!r}, not a finite number")

"""plan -> pretrain (cached) -> encode (cached) -> task fit/eval -> record."""
from __future__ import annotations

import math
import platform
import subprocess
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

import numpy as np

import avtbench
from avtbench import config as cfg
from avtbench.api import Clips, Direction, Method, Progress, SilentProgress, Task, UserError
from avtbench.cache import ArtifactCache
from avtbench.cells import Cell
from avtbench.data.context import DataConfig, DataContext
from avtbench.hashing import hash_array, hash_json
from avtbench.plugins import Registry
from avtbench.store import ResultStore

DATA_SECTION = "data"


@dataclass
class PlannedCell:
    cell: Cell
    method_cls: type[Method]
    task_cls: type[Task]
    method_config: Any
    task_config: Any
    direction: Direction


@dataclass
class Plan:
    cells: list[PlannedCell]
    skipped: list[str]
    data_config: DataConfig


def make_plan(
    registry: Registry,
    methods: list[str],
    tasks: list[str],
    directions: list[str],
    seeds: list[int],
    document: cfg.Document,
    cache: ArtifactCache,
) -> Plan:
    """Expand the grid; validate every name, direction and setting before anything runs."""
    _check_sections(registry, document)
    data_config = cfg.build(DataConfig, document.get(DATA_SECTION, {}), DATA_SECTION)
    context = DataContext(data_config, cache.root)
    cells: list[PlannedCell] = []
    skipped: list[str] = []
    for method_name in methods:
        method_cls = registry.method(method_name)
        method_config = cfg.build(method_cls.config_class, document.get(method_name, {}), method_name)
        for task_name in tasks:
            task_cls = registry.task(task_name)
            task_config = cfg.build(task_cls.config_class, document.get(task_name, {}), task_name)
            data = _data_identity(data_config, context, (method_cls.corpus, *task_cls.datasets))
            for direction in _directions(task_cls, directions):
                encodable = method_cls.modalities_for(method_config)
                missing = [m for m in (direction.source, direction.target) if m not in encodable]
                if missing:
                    skipped.append(f"{method_name} / {task_name} / {direction}: {method_name} has no {missing[0]} encoder under this config")
                    continue
                for seed in seeds:
                    cell = Cell(
                        method=method_name, task=task_name, direction=direction.name, seed=seed,
                        method_version=str(method_cls.version), task_version=str(task_cls.version),
                        method_config=cfg.to_dict(method_config), task_config=cfg.to_dict(task_config), data=data,
                    )
                    cells.append(PlannedCell(cell, method_cls, task_cls, method_config, task_config, direction))
    return Plan(cells, skipped, data_config)


def _check_sections(registry: Registry, document: cfg.Document) -> None:
    known = {DATA_SECTION, *registry.methods, *registry.tasks}
    for section in document:
        if section not in known:
            import difflib

            close = difflib.get_close_matches(section, sorted(known), n=1)
            hint = f"did you mean {close[0]!r}?" if close else "sections are a method name, a task name or `data`"
            raise UserError(f"config section {section!r} names no method, task or data; {hint}")


def _directions(task_cls: type[Task], requested: list[str]) -> list[Direction]:
    if not requested or requested == ["all"]:
        return [Direction.parse(d) for d in task_cls.directions]
    out = []
    for text in requested:
        direction = Direction.parse(text)
        if direction.name not in task_cls.directions:
            raise UserError(
                f"task {task_cls.name!r} does not support direction {direction.name}; "
                f"supported: {', '.join(task_cls.directions)}"
            )
        out.append(direction)
    return out


def _data_identity(config: DataConfig, context: DataContext, datasets: tuple[str, ...]) -> dict[str, Any]:
    return {
        "profile": config.profile,
        "world_seed": config.world_seed,
        "fingerprints": {name: context.fingerprint(name) for name in dict.fromkeys(datasets)},
    }


def resolve_device(requested: str) -> str:
    import torch

    if requested == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if requested == "cuda" and not torch.cuda.is_available():
        raise UserError("--device cuda asked for, but torch sees no CUDA device; use --device cpu or auto")
    if requested not in ("cpu", "cuda"):
        raise UserError(f"unknown device {requested!r}; use auto, cpu or cuda")
    return requested


class Runner:
    """Runs planned cells, reusing cached checkpoints and embeddings, and writes one record per cell."""

    def __init__(
        self,
        store: ResultStore,
        cache: ArtifactCache,
        data_config: DataConfig,
        device: str = "cpu",
        progress: Progress | None = None,
        log: Callable[[str], None] = lambda msg: None,
    ) -> None:
        self.store = store
        self.cache = cache
        self.data_config = data_config
        self.data = DataContext(data_config, cache.root)
        self.device = device
        self.progress = progress or SilentProgress()
        self.log = log
        self._splits: dict[tuple, dict[str, Clips]] = {}

    def run(self, planned: PlannedCell, overwrite: bool = False) -> dict[str, Any] | None:
        """Run one cell; return its record, or None when a record already exists and overwrite is off."""
        if self.store.exists(planned.cell) and not overwrite:
            return None
        started = time.perf_counter()
        method, pretrain_info = self.pretrained_method(planned.method_cls, planned.method_config, planned.cell.seed)
        task = planned.task_cls(planned.task_config)
        splits = self._task_splits(task, planned, planned.method_cls.input_level)
        encode_started = time.perf_counter()
        embeddings = {
            (split, modality): self.embed(method, pretrain_info["key"], splits[split], modality)
            for split, modality in task.needs(planned.direction, splits)
        }
        evaluate_started = time.perf_counter()
        metrics = task.evaluate(embeddings, splits, planned.direction, planned.cell.seed, self.device, self.progress)
        finished = time.perf_counter()
        _check_metrics(task, metrics)
        record = self._record(planned, metrics, pretrain_info, {
            "pretrain_s": pretrain_info["seconds"],
            "encode_s": evaluate_started - encode_started,
            "evaluate_s": finished - evaluate_started,
            "total_s": finished - started,
        })
        self.store.write(planned.cell, record)
        return record

    def pretrained_method(self, method_cls: type[Method], method_config: Any, seed: int) -> tuple[Method, dict[str, Any]]:
        """The method pretrained on its corpus with this config and seed: from the cache, or trained and cached."""
        import torch

        identity = [method_cls.name, str(method_cls.version), cfg.to_dict(method_config)]
        key = hash_json({"method": identity, "corpus": self.data.fingerprint(method_cls.corpus), "seed": seed}, length=24)
        torch.manual_seed(seed)
        np.random.seed(seed)
        method = method_cls(method_config, device=self.device, seed=seed)
        if self.cache.has_checkpoint(key):
            state, meta = self.cache.load_checkpoint(key)
            method.load_state_dict(state)
            return method, {"key": key, "cached": True, "seconds": 0.0, "stats": meta.get("stats", {})}
        corpus = self._read_corpus(method_cls.corpus, method_cls.input_level)
        self.log(f"pretraining {method_cls.name} (seed {seed}) on {len(corpus)} clips")
        started = time.perf_counter()
        stats = method.pretrain(corpus, self.progress) or {}
        seconds = time.perf_counter() - started
        meta = {"method": identity, "seed": seed, "stats": stats, "seconds": seconds, "device": self.device}
        self.cache.save_checkpoint(key, method.state_dict(), meta)
        return method, {"key": key, "cached": False, "seconds": seconds, "stats": stats}

    def _read_corpus(self, name: str, level: str) -> Clips:
        from avtbench.data.corpus import read_corpus

        return read_corpus(self.data.root(name), level=level)

    def _task_splits(self, task: Task, planned: PlannedCell, level: str) -> dict[str, Clips]:
        """The task's clips at the level the method reads, loaded once per run and shared by its cells."""
        key = (planned.cell.task, planned.cell.task_version, hash_json(planned.cell.task_config), level)
        if key not in self._splits:
            self._splits[key] = task.splits(DataContext(self.data_config, self.cache.root, level))
        return self._splits[key]

    def embed(self, method: Method, checkpoint_key: str, clips: Clips, modality: str) -> np.ndarray:
        import torch

        data = clips.modality(modality)
        key = hash_json([checkpoint_key, modality, hash_array(data)], length=24)
        cached = self.cache.load_embedding(key)
        if cached is not None:
            return cached
        batch_size = method.encode_batch_size()
        starts = range(0, len(clips), batch_size)
        outputs = []
        with torch.no_grad():
            for start in self.progress.track(starts, description=f"encoding {modality}"):
                chunk = data[start:start + batch_size]
                batch = torch.from_numpy(np.ascontiguousarray(chunk)) if isinstance(chunk, np.ndarray) else list(chunk)
                outputs.append(method.encode(modality, batch).detach().float().cpu().numpy())
        array = np.concatenate(outputs, axis=0).astype(np.float32)
        if not np.isfinite(array).all():
            raise UserError(f"method {method.name!r} produced non-finite {modality} embeddings; check its config (learning rate) or retrain with --overwrite")
        self.cache.save_embedding(key, array)
        return array

    def _record(self, planned: PlannedCell, metrics: dict[str, float], pretrain: dict[str, Any],
                timings: dict[str, float]) -> dict[str, Any]:
        cell = planned.cell
        return {
            "method": cell.method,
            "task": cell.task,
            "direction": cell.direction,
            "seed": cell.seed,
            "metrics": {k: float(v) for k, v in metrics.items()},
            "main_metric": planned.task_cls.main_metric,
            "main_value": float(metrics[planned.task_cls.main_metric]),
            "lower_is_better": list(planned.task_cls.lower_is_better),
            "config": {"method": cell.method_config, "task": cell.task_config, "data": cell.data},
            "cell_hash": cell.cell_hash,
            "config_hash": cell.config_hash,
            "method_hash": cell.method_hash,
            "column_hash": cell.column_hash,
            "versions": {"method": cell.method_version, "task": cell.task_version, **package_versions()},
            "git_sha": git_sha(),
            "pretrain": {"checkpoint": pretrain["key"], "cached": pretrain["cached"], "stats": pretrain["stats"]},
            "timings": timings,
            "device": self.device,
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }


def _check_metrics(task: Task, metrics: dict[str, float]) -> None:
    if task.main_metric not in metrics:
        raise UserError(f"task {task.name!r} returned no {task.main_metric!r} (its main metric); fix the task plugin")
    bad = [k for k, v in metrics.items() if not math.isfinite(float(v))]
    if bad:
        raise UserError(f"task {task.name!r} returned a non-finite {bad[0]!r}; check the embeddings and head settings")


def package_versions() -> dict[str, str]:
    import torch

    return {"avtbench": avtbench.__version__, "torch": torch.__version__, "numpy": np.__version__,
            "python": platform.python_version()}


def git_sha() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(avtbench.__file__).parent,
                             capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None

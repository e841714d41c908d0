"""Expand a grid into cells; validate every name, direction, setting and dataset before anything runs.

This is also the one place that wires the synthetic world in, as the provider of every dataset
that has no real root.
"""
from __future__ import annotations

import difflib
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from avtbench import config as cfg
from avtbench.api import Direction, Method, Task, UserError
from avtbench.cache import ArtifactCache
from avtbench.cells import Cell
from avtbench.data.sources import DataConfig, DatasetResolver, split_roots
from avtbench.hashing import hash_json
from avtbench.plugins import Registry
from avtbench.synth.provider import SyntheticWorld

DATA_SECTION = "data"
EXECUTOR_SECTION = "executor"
"""Settings of the executor (`avtbench.executors.settings`); read by the CLI, not by cells."""


@dataclass(frozen=True)
class PlannedCell:
    cell: Cell
    method_cls: type[Method]
    task_cls: type[Task]
    method_config: Any
    task_config: Any
    direction: Direction
    checkpoint: str
    """The key of the pretrained method this cell needs (`checkpoint_key`), computed once, here."""
    data_settings: dict[str, Any]
    """The `data` section the cell's datasets resolve from (real roots, profile, world seed)."""
    released: Path | None = None
    """The released checkpoint the method loads instead of pretraining (`Method.released_checkpoint`);
    then `checkpoint` is that file's sha256."""

    @property
    def encoder_key(self) -> str:
        """What the cell's embeddings are cached under (with the data and modality): the checkpoint key;
        for a released checkpoint also the method's name, version, settings and the seed, which the file's
        sha256 does not cover (a setting of how it encodes; a weight `load_released` leaves seeded)."""
        if self.released is None:
            return self.checkpoint
        cell = self.cell
        return hash_json([self.checkpoint, cell.method, cell.method_version, cell.method_config, cell.seed], length=24)

    def order(self) -> CellOrder:
        """What a worker needs to rebuild this cell (`rebuild_cell`), as plain data."""
        cell = self.cell
        return CellOrder(cell.method, cell.task, cell.direction, cell.seed, cell.method_config, cell.task_config,
                         self.data_settings, cell.cell_hash, self.checkpoint, cell.config_hash)


@dataclass(frozen=True)
class CellOrder:
    """One cell as plain data, for a job to carry to a worker: names, seed, resolved settings, the
    data section, and the hashes the worker checks its rebuilt cell against."""

    method: str
    task: str
    direction: str
    seed: int
    method_settings: dict[str, Any]
    task_settings: dict[str, Any]
    data_settings: dict[str, Any]
    cell_hash: str
    checkpoint: str
    config_hash: str = ""
    """Where the cell's record and failure go in the store (`store.CellPlace`), so that a worker that
    cannot rebuild the cell can still record why."""

    def label(self) -> str:
        return f"{self.method} / {self.task} / {self.direction} / seed {self.seed}"


@dataclass
class Plan:
    cells: list[PlannedCell]
    skipped: list[str]
    data: DatasetResolver


def checkpoint_key(method_cls: type[Method], method_config: Any, corpus_fingerprint: str, seed: int) -> str:
    """What identifies a pretrained method: name, version, config, its corpus's fingerprint and seed."""
    identity = [method_cls.name, str(method_cls.version), cfg.to_dict(method_config)]
    return hash_json({"method": identity, "corpus": corpus_fingerprint, "seed": seed}, length=24)


def released_file(method_cls: type[Method], method_config: Any) -> Path | None:
    """The released checkpoint `method_config` names (`Method.released_checkpoint`), which must be a file;
    None when the method is to be pretrained."""
    named = method_cls.released_checkpoint(method_config)
    if not named:
        return None
    path = Path(named).expanduser()
    if not path.is_file():
        raise UserError(f"{method_cls.name}: the released checkpoint {named} is not a file; fix the path "
                        "its settings name, or drop it to pretrain the method")
    return path.resolve()


_SHA256: dict[tuple[str, int, int], str] = {}
"""sha256 of the files hashed so far, by (path, size, mtime): every cell of a grid asks for the same file."""


def file_sha256(path: Path) -> str:
    """The sha256 (hex) of the file at `path`, read once per path, size and modification time."""
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    if key not in _SHA256:
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        _SHA256[key] = digest.hexdigest()
    return _SHA256[key]


def method_checkpoint(method_cls: type[Method], method_config: Any, corpus_fingerprint: str,
                      seed: int) -> tuple[str, Path | None]:
    """(checkpoint key, released file): the sha256 of the released checkpoint the config names, or,
    for a method to pretrain, `checkpoint_key`."""
    released = released_file(method_cls, method_config)
    if released is not None:
        return file_sha256(released), released
    return checkpoint_key(method_cls, method_config, corpus_fingerprint, seed), None


def data_resolver(registry: Registry, document: cfg.Document, cache: ArtifactCache) -> DatasetResolver:
    """The run's datasets: real roots from the `data` section, the synthetic world for the rest."""
    datasets = registry.datasets.loaded()  # a dataset plugin that fails to import is left out, named in failures
    values, roots = split_roots(document.get(DATA_SECTION, {}), datasets)
    data_config = cfg.build(DataConfig, values, DATA_SECTION)
    data_config.roots = {**data_config.roots, **roots}
    provider = SyntheticWorld(data_config.profile, data_config.world_seed, cache.root, data_config.world, datasets)
    return DatasetResolver(datasets, data_config, provider)


def method_config(registry: Registry, name: str, document: cfg.Document) -> tuple[type[Method], Any]:
    method_cls = registry.method(name)
    config = cfg.build(method_cls.config_class, document.get(name, {}), name)
    method_cls.validate(config)
    return method_cls, config


def make_plan(
    registry: Registry,
    methods: list[str],
    tasks: list[str],
    directions: list[str],
    seeds: list[int],
    document: cfg.Document,
    cache: ArtifactCache,
) -> Plan:
    """Every cell of methods x tasks x directions x seeds, each config built and validated."""
    _check_sections(registry, document)
    data = data_resolver(registry, document, cache)
    cells: list[PlannedCell] = []
    skipped: list[str] = []
    for method_name in methods:
        method_cls, m_config = method_config(registry, method_name, document)
        released_file(method_cls, m_config)  # a released checkpoint that is not there fails before anything else
        for task_name in tasks:
            task_cls = registry.task(task_name)
            t_config = cfg.build(task_cls.config_class, document.get(task_name, {}), task_name)
            task_cls.validate(t_config)
            encodable = method_cls.modalities_for(m_config)
            task_directions = _directions(task_cls, directions)
            for direction in task_directions:  # before the data are fingerprinted (or the world written)
                if direction.source in encodable and direction.target in encodable:
                    _check_finetuning(method_cls, m_config, task_cls, t_config, direction)
            identity = data_identity(data, (method_cls.corpus, *task_cls.datasets))
            for direction in task_directions:
                missing = [m for m in (direction.source, direction.target) if m not in encodable]
                if missing:
                    skipped.append(f"{method_name} / {task_name} / {direction}: {method_name} has no {missing[0]} encoder under this config")
                    continue
                for seed in seeds:
                    cells.append(_planned(method_cls, task_cls, m_config, t_config, direction, seed, data,
                                          identity, dict(document.get(DATA_SECTION, {}))))
    return Plan(cells, skipped, data)


def _check_finetuning(method_cls: type[Method], m_config: Any, task_cls: type[Task], t_config: Any,
                      direction: Direction) -> None:
    """A task that fine-tunes the method's encoder of a modality (`Task.finetuned_modalities`) needs a
    method that hands one over (`Method.trainable_modalities`): otherwise one line, before any work."""
    offered = method_cls.trainable_modalities(m_config)
    for modality in task_cls.finetuned_modalities(t_config, direction):
        if modality not in offered:
            has = f"trainable encoders of {', '.join(offered)} only" if offered else "no trainable encoder"
            raise UserError(f"{task_cls.name}.{task_cls.finetune_setting}=true fine-tunes the {modality} encoder "
                            f"({direction}), but method {method_cls.name!r} has {has}; drop --set "
                            f"{task_cls.name}.{task_cls.finetune_setting}=true for {method_cls.name} or pick a method "
                            "that has one (README: 'Fine-tuning the encoder')")


def _planned(method_cls: type[Method], task_cls: type[Task], m_config: Any, t_config: Any, direction: Direction,
             seed: int, data: DatasetResolver, identity: dict[str, Any], data_settings: dict[str, Any]) -> PlannedCell:
    key, released = method_checkpoint(method_cls, m_config, identity["fingerprints"][method_cls.corpus], seed)
    cell = Cell(method=method_cls.name, task=task_cls.name, direction=direction.name, seed=seed,
                method_version=str(method_cls.version), task_version=str(task_cls.version),
                method_config=cfg.to_dict(m_config), task_config=cfg.to_dict(t_config), data=identity,
                released=key if released is not None else "")
    return PlannedCell(cell, method_cls, task_cls, m_config, t_config, direction, key, data_settings, released)


def rebuild_cell(registry: Registry, order: CellOrder, cache: ArtifactCache) -> tuple[PlannedCell, DatasetResolver]:
    """The cell of `order` built again from the installed plugins (on a worker), with its datasets;
    a one-line error when it no longer hashes the same (other plugin versions or data on this worker)."""
    data = data_resolver(registry, {DATA_SECTION: order.data_settings}, cache)
    method_cls, m_config = method_config(registry, order.method, {order.method: order.method_settings})
    task_cls = registry.task(order.task)
    t_config = cfg.build(task_cls.config_class, order.task_settings, order.task)
    task_cls.validate(t_config)
    identity = data_identity(data, (method_cls.corpus, *task_cls.datasets))
    planned = _planned(method_cls, task_cls, m_config, t_config, Direction.parse(order.direction), order.seed, data,
                       identity, order.data_settings)
    if planned.cell.cell_hash != order.cell_hash or planned.checkpoint != order.checkpoint:
        raise UserError(f"{order.label()} is not the same cell on this worker as where the grid was planned "
                        "(other plugin versions, settings or data here); install the same avtbench and plugins "
                        "and give the workers the same data, then run the grid again")
    return planned, data


def data_identity(data: DatasetResolver, datasets: tuple[str, ...]) -> dict[str, Any]:
    """What a cell's data is: the world's settings and a fingerprint of every dataset it reads."""
    for name in dict.fromkeys(datasets):
        data.check(name)
    return {
        "profile": data.config.profile,
        "world_seed": data.config.world_seed,
        "fingerprints": {name: data.fingerprint(name) for name in dict.fromkeys(datasets)},
    }


def _check_sections(registry: Registry, document: cfg.Document) -> None:
    known = {DATA_SECTION, EXECUTOR_SECTION, *registry.methods, *registry.tasks}
    for section in document:
        if section not in known:
            close = difflib.get_close_matches(section, sorted(known), n=1)
            hint = f"did you mean {close[0]!r}?" if close else "sections are a method name, a task name, `data` or `executor`"
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

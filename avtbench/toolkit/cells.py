"""For plots and plugin commands: a cell run or found in a result store, or a method pretrained or
found in the cache, from the same names and settings `avtbench run` takes (so `--set` is honoured and
the cache and store are shared with the grids')."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from avtbench.errors import UserError

if TYPE_CHECKING:
    from avtbench.api import Clips, Method, Progress
    from avtbench.record import CellRecord, PretrainInfo


@dataclass(frozen=True)
class CellRun:
    """A finished cell: its record and the folder of the files its task kept beside it."""

    record: CellRecord
    artifacts: Path
    computed: bool
    """True when this call ran the cell; False when its record was already in the store."""

    def artifact(self, name: str) -> Path:
        path = self.artifacts / name
        if not path.is_file():
            raise UserError(f"{self.record.label()} kept no {name} (looked in {self.artifacts})")
        return path


@dataclass(frozen=True)
class Where:
    """Where cells and checkpoints live and run: the result store, the artifact cache (None: the
    default, $AVTBENCH_CACHE or ~/.cache/avtbench), the device ("auto", "cpu", "cuda"), and where
    progress and log lines go."""

    results: str | Path = "results"
    cache: str | Path | None = None
    device: str = "auto"
    progress: Progress | None = None
    log: Callable[[str], None] = lambda message: None


def run_or_load_cell(method: str, task: str, direction: str, seed: int = 0, settings: dict[str, Any] | None = None,
                     where: Where = Where(), artifacts: tuple[str, ...] = ()) -> CellRun:
    """The cell `method` x `task` x `direction` x `seed` under `settings` (sections as in a config file:
    `{"data": {...}, "<method>": {...}, "<task>": {...}}`): read from the store when its record is
    there (and holds every file named in `artifacts`), else computed and recorded like any grid's cell."""
    from avtbench.cache import ArtifactCache
    from avtbench.plan import make_plan
    from avtbench.plugins import registry
    from avtbench.recording import record_cell
    from avtbench.runner import Runner, resolve_device
    from avtbench.store import ResultStore

    cache = ArtifactCache(where.cache)
    plan = make_plan(registry(), [method], [task], [direction], [seed], settings or {}, cache)
    if not plan.cells:
        raise UserError(f"no such cell: {plan.skipped[0]}" if plan.skipped else f"no cell {method} / {task} / {direction}")
    planned = plan.cells[0]
    store = ResultStore(where.results)
    cache.prepare()
    store.prepare()
    folder = store.artifacts_path(planned.cell)
    lacking = any(not (folder / name).is_file() for name in artifacts)
    runner = Runner(cache, plan.data, resolve_device(where.device), where.progress, where.log)
    record = record_cell(store, runner, planned, overwrite=lacking and store.exists(planned.cell), log=where.log)
    run = CellRun(record or store.read(planned.cell), folder, computed=record is not None)
    for name in artifacts:
        run.artifact(name)
    return run


def pretrained(method: str, seed: int = 0, settings: dict[str, Any] | None = None,
               where: Where = Where()) -> tuple[Method, PretrainInfo]:
    """The method `method` pretrained on its corpus under `settings` with `seed`: from the cache, or
    pretrained and cached, exactly as a grid's cells get it (same checkpoint key)."""
    from avtbench.cache import ArtifactCache
    from avtbench.plan import data_resolver, method_checkpoint, method_config
    from avtbench.plugins import registry
    from avtbench.runner import Runner, resolve_device

    reg, document = registry(), settings or {}
    cache = ArtifactCache(where.cache)
    method_cls, config = method_config(reg, method, document)
    data = data_resolver(reg, document, cache)
    cache.prepare()
    runner = Runner(cache, data, resolve_device(where.device), where.progress, where.log)
    key, released = method_checkpoint(method_cls, config, data.fingerprint(method_cls.corpus), seed)
    return runner.pretrained_method(method_cls, config, seed, key, released=released)


def configured(method: str, settings: dict[str, Any] | None = None) -> tuple[type[Method], Any]:
    """The installed method `method` and its config built from `settings[method]` (presets applied,
    ranges checked, the method's own `validate` run): a one-line UserError for anything wrong."""
    from avtbench.plan import method_config
    from avtbench.plugins import registry

    return method_config(registry(), method, settings or {})


def method_corpus(method: str, settings: dict[str, Any] | None = None, where: Where = Where()) -> Clips:
    """The corpus `method` pretrains on under the `data` settings, at the level it reads (features or
    raw), lazily: the same clips a grid's pretraining of it gets."""
    from avtbench.cache import ArtifactCache
    from avtbench.plan import data_resolver
    from avtbench.plugins import registry

    method_cls, _ = configured(method, settings)
    cache = ArtifactCache(where.cache)
    cache.prepare()
    return data_resolver(registry(), settings or {}, cache).source(method_cls.corpus, method_cls.input_level).read()


def cache_root(where: Where = Where()) -> Path:
    """The artifact cache folder `where` names (created when missing)."""
    from avtbench.cache import ArtifactCache

    cache = ArtifactCache(where.cache)
    cache.prepare()
    return cache.root


def device(where: Where = Where()) -> str:
    """The device `where.device` resolves to ("auto": cuda when torch sees one)."""
    from avtbench.runner import resolve_device

    return resolve_device(where.device)

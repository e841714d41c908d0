"""The conformance kit: plugin authors run it in their own tests (and `avtbench check` runs it by name).

    from avtbench.testing import check_method, check_task, run_cell

    def test_my_method_keeps_the_contract():
        check_method(MyMethod).assert_passed()

Each check runs on the tiny synthetic world, written once per process into a temporary folder
(or under `cache_dir`) and read by the real readers. A check never raises: it returns a `Report`
with one `CheckResult` per check, and a failing check names its reason on one line. Checks whose
input is missing (say, the method did not pretrain) fail as "not run" without hiding the others.

Settings: a config class may define a `PRESETS["tiny"]` of small sizes; the kit applies it (then
`settings`) so that a check takes seconds.
"""
from __future__ import annotations

import atexit
import dataclasses
import math
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np

from avtbench import config as cfg
from avtbench.api import Clips, Direction, Method, SilentProgress, Task, UserError

TINY_PRESET = "tiny"
TINY_DATA = {"profile": "tiny", "world_seed": 0}
MODALITIES = ("audio", "visual", "text")
BATCH = 4


@dataclass
class CheckResult:
    subject: str
    """What was checked, e.g. "method unaligned"."""
    check: str
    passed: bool
    reason: str = ""

    def line(self) -> str:
        return f"{'PASS' if self.passed else 'FAIL'}  {self.subject}: {self.check}" + (f" ({self.reason})" if self.reason else "")


@dataclass
class Report:
    results: list[CheckResult] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.results)

    def failures(self) -> list[CheckResult]:
        return [r for r in self.results if not r.passed]

    def lines(self) -> list[str]:
        return [r.line() for r in self.results]

    def assert_passed(self) -> None:
        """For an author's pytest suite: fail with every failing line."""
        if not self.passed:
            raise AssertionError("conformance checks failed:\n" + "\n".join(r.line() for r in self.failures()))

    def __iter__(self) -> Iterator[CheckResult]:
        return iter(self.results)


class _Recorder:
    """Runs named checks; a check is a callable returning a reason (str) or None, raising on failure."""

    def __init__(self, subject: str) -> None:
        self.subject = subject
        self.report = Report()

    def run(self, check: str, body: Callable[[], str | None]) -> bool:
        try:
            reason = body() or ""
        except AssertionError as exc:
            return self._add(check, False, str(exc) or "assertion failed")
        except Exception as exc:  # a broken plugin may fail in any way; report it on one line
            return self._add(check, False, _one_line(exc))
        return self._add(check, True, reason)

    def skip(self, check: str, because: str) -> None:
        self._add(check, False, f"not run: {because}")

    def _add(self, check: str, passed: bool, reason: str) -> bool:
        self.report.results.append(CheckResult(self.subject, check, passed, reason))
        return passed


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


# ------------------------------------------------------------------ the tiny world


_SCRATCH: Path | None = None


def scratch_dir() -> Path:
    """A temporary folder for this process, removed at exit: the kit's cache and world live here."""
    global _SCRATCH
    if _SCRATCH is None:
        _SCRATCH = Path(tempfile.mkdtemp(prefix="avtbench-testing-"))
        atexit.register(shutil.rmtree, _SCRATCH, True)
    return _SCRATCH


def tiny_sources(cache_dir: Path | None = None, registry: Any = None) -> Any:
    """The datasets of the tiny synthetic world (a `DatasetResolver`), written on first use."""
    from avtbench.cache import ArtifactCache
    from avtbench.plan import data_resolver
    from avtbench.plugins import registry as installed

    return data_resolver(registry or installed(), {"data": dict(TINY_DATA)}, ArtifactCache(cache_dir or scratch_dir()))


def _config(cls: type, settings: dict[str, Any] | None, section: str) -> Any:
    values = dict(settings or {})
    if TINY_PRESET in getattr(cls, "PRESETS", {}) and "preset" not in values:
        values["preset"] = TINY_PRESET
    return cfg.build(cls, values, section)


def _check_config(rec: _Recorder, config_class: type, section: str, settings: dict[str, Any] | None,
                  validate: Callable[[Any], None]) -> Any:
    """The config checks shared by methods and tasks; returns the built config, or None."""
    built: list[Any] = []

    def builds() -> str:
        if not dataclasses.is_dataclass(config_class):
            raise AssertionError(f"{config_class.__name__} is not a dataclass")
        config = _config(config_class, settings, section)
        validate(config)
        built.append(config)
        return f"{len(dataclasses.fields(config_class))} settings"

    def ranges() -> str:
        missing = cfg.unranged_fields(config_class)
        if missing:
            raise AssertionError(f"no declared range for {', '.join(missing)}; use avtbench.config.setting(default, low=...)")
        return "every numeric setting declares a range"

    def rejects() -> str:
        probe = _out_of_range(config_class)
        if probe is None:
            return "no ranged setting to probe"
        name, value = probe
        try:
            validate(cfg.build(config_class, {name: value}, section))
        except UserError as exc:
            if "\n" in str(exc):
                raise AssertionError(f"the error for {name}={value!r} spans several lines") from None
            return f"{name}={value!r}: {exc}"
        raise AssertionError(f"{section}.{name}={value!r} is outside its range but was accepted")

    if not rec.run("config builds and validates", builds):
        return None
    rec.run("settings declare ranges", ranges)
    rec.run("an out-of-range setting is rejected", rejects)
    return built[0]


def _out_of_range(config_class: type) -> tuple[str, Any] | None:
    """(field, a value outside its range): a numeric bound if any field has one, else a bad choice."""
    ranges = [(f.name, cfg.declared_range(config_class, f.name)) for f in dataclasses.fields(config_class)]
    for name, declared in ranges:
        if declared is None or declared.choices is not None:
            continue
        if declared.above is not None:
            return name, declared.above
        if declared.low is not None:
            return name, declared.low - 1
        if declared.high is not None:
            return name, declared.high + 1
    for name, declared in ranges:
        if declared is not None and declared.choices and all(isinstance(c, str) for c in declared.choices):
            return name, "not-a-choice"
    return None


# ------------------------------------------------------------------ methods


def check_method(method_cls: type[Method], settings: dict[str, Any] | None = None, cache_dir: Path | None = None,
                 seed: int = 0) -> Report:
    """Does `method_cls` keep the Method contract? Config with ranges, validation, pretraining on the
    tiny world, [B, T, D] finite float output per modality, a save/load round trip giving identical
    embeddings, the same embeddings for the same seed, a clear error for a modality it lacks."""
    rec = _Recorder(f"method {getattr(method_cls, 'name', method_cls.__name__)}")
    if not (isinstance(method_cls, type) and issubclass(method_cls, Method)):
        rec.run("is a Method", lambda: _fail(f"{method_cls!r} is not a subclass of avtbench.api.Method"))
        return rec.report
    config = _check_config(rec, method_cls.config_class, method_cls.name, settings, method_cls.validate)
    later = ("pretrains on the tiny world", "encodes [B, T, D] finite floats", "save/load round trip",
             "same seed, same embeddings", "a lacking modality is a clear error")
    if config is None:
        for check in later:
            rec.skip(check, "the config does not build")
        return rec.report
    with _one_thread():
        _check_trained_method(rec, method_cls, config, cache_dir or scratch_dir(), seed, later)
    return rec.report


def _check_trained_method(rec: _Recorder, method_cls: type[Method], config: Any, cache: Path, seed: int,
                          checks: tuple[str, ...]) -> None:
    data = tiny_sources(cache)
    level = method_cls.input_level
    modalities = tuple(method_cls.modalities_for(config))
    trained: list[Method] = []

    def pretrains() -> str:
        corpus = data.source(method_cls.corpus, level).read()
        method, stats = _pretrained(method_cls, config, corpus, cache, seed)
        bad = [k for k, v in stats.items() if not isinstance(v, (int, float)) or not math.isfinite(float(v))]
        if bad:
            raise AssertionError(f"pretrain returned non-finite or non-numeric {bad[0]!r}")
        trained.append(method)
        return f"{len(corpus)} corpus clips, {len(stats)} summary numbers"

    if not rec.run(checks[0], pretrains):
        for check in checks[1:]:
            rec.skip(check, "pretraining failed")
        return
    method = trained[0]
    batches = _batches(data.source("ave", level).read("test"), modalities)
    first: dict[str, Any] = {}

    def encodes() -> str:
        for modality, batch in batches.items():
            first[modality] = _encoded(method, modality, batch)
        return ", ".join(f"{m} {tuple(v.shape)}" for m, v in first.items())

    encoded = rec.run(checks[1], encodes)

    def round_trip() -> str:
        folder = Path(tempfile.mkdtemp(dir=cache))
        try:
            method.save(folder)
            _check_saved_files(folder)
            restored = method_cls(config, device="cpu", seed=seed, cache_dir=cache)
            restored.load(folder)
            _same(first, {m: _encoded(restored, m, b) for m, b in batches.items()}, "after save/load")
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return "identical embeddings after save and load into a fresh instance"

    def seeded() -> str:
        corpus = data.source(method_cls.corpus, level).read()
        again, _ = _pretrained(method_cls, config, corpus, cache, seed)
        _same(first, {m: _encoded(again, m, b) for m, b in batches.items()}, "from a second pretraining with the same seed")
        return f"seed {seed} twice: identical embeddings"

    for check, body in ((checks[2], round_trip), (checks[3], seeded)):
        if encoded:
            rec.run(check, body)
        else:
            rec.skip(check, "encoding failed")
    rec.run(checks[4], lambda: _lacking_modality(method, modalities, data, level))


def _pretrained(method_cls: type[Method], config: Any, corpus: Clips, cache: Path, seed: int) -> tuple[Method, dict]:
    import torch

    torch.manual_seed(seed)
    np.random.seed(seed)
    method = method_cls(config, device="cpu", seed=seed, cache_dir=cache)
    with tempfile.TemporaryDirectory(dir=cache) as workdir:
        stats = method.pretrain(corpus, Path(workdir), SilentProgress()) or {}
    if not isinstance(stats, dict):
        raise AssertionError(f"pretrain returned {type(stats).__name__}, not a dict of summary numbers")
    return method, stats


def _batches(clips: Clips, modalities: tuple[str, ...]) -> dict[str, Any]:
    import torch

    out: dict[str, Any] = {}
    for modality in modalities:
        data = clips.modality(modality)
        chunk = data[:BATCH]
        out[modality] = torch.from_numpy(np.ascontiguousarray(chunk)) if isinstance(chunk, np.ndarray) else list(chunk)
    return out


def _encoded(method: Method, modality: str, batch: Any) -> Any:
    import torch

    with torch.no_grad():
        out = method.encode(modality, batch)
    if not isinstance(out, torch.Tensor):
        raise AssertionError(f"encode({modality!r}) returned {type(out).__name__}, not a torch.Tensor")
    if out.dim() != 3 or out.shape[0] != len(batch):
        raise AssertionError(f"encode({modality!r}) returned shape {tuple(out.shape)}, expected [{len(batch)}, T, D]")
    if not out.is_floating_point():
        raise AssertionError(f"encode({modality!r}) returned {out.dtype}, not a float tensor")
    if not torch.isfinite(out).all():
        raise AssertionError(f"encode({modality!r}) returned NaN or inf")
    return out.detach().cpu()


def _same(expected: dict[str, Any], got: dict[str, Any], when: str) -> None:
    import torch

    for modality, tensor in expected.items():
        other = got[modality]
        if tensor.shape != other.shape or not torch.equal(tensor, other):
            delta = float((tensor - other).abs().max()) if tensor.shape == other.shape else float("nan")
            raise AssertionError(f"{modality} embeddings differ {when} (max difference {delta:.3g})")


def _check_saved_files(folder: Path) -> None:
    """Saved state is safetensors, JSON or a `save_pretrained` folder: nothing that needs unpickling."""
    pickled = [p.name for p in folder.rglob("*") if p.suffix in (".pt", ".pth", ".pkl", ".pickle", ".bin", ".ckpt")]
    if pickled:
        raise AssertionError(f"save wrote {pickled[0]}, a pickle format; save tensors with safetensors (MethodState)")


def _lacking_modality(method: Method, modalities: tuple[str, ...], data: Any, level: str) -> str:
    lacking = [m for m in MODALITIES if m not in modalities]
    if not lacking:
        return "encodes every modality"
    modality = lacking[0]
    clips = data.source("ave", level).read("test")
    batch = _batches(clips, (modality,))[modality] if clips.has(modality) else ["a caption"] * BATCH
    try:
        method.encode(modality, batch)
    except UserError as exc:
        if "\n" in str(exc):
            raise AssertionError(f"the error for {modality} spans several lines") from None
        return f"{modality}: {exc}"
    except Exception as exc:
        raise AssertionError(f"encode({modality!r}) raised {_one_line(exc)}, not a UserError naming the modality") from None
    raise AssertionError(f"encode({modality!r}) returned something although {modality} is not among its modalities")


# ------------------------------------------------------------------ tasks


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
        steps = data.shape[1] if isinstance(data, np.ndarray) and data.ndim >= 2 and modality != "text" else 1
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


# ------------------------------------------------------------------ one cell end to end


def run_cell(method: str | type[Method], task: str | type[Task], direction: str, seed: int = 0,
             settings: dict[str, dict[str, Any]] | None = None, cache_dir: Path | None = None) -> dict[str, Any]:
    """One cell end to end on the tiny world (pretrain, encode, fit, evaluate) through the real plan and
    runner; returns the record that `avtbench run` would write. Classes need not be installed."""
    from avtbench.cache import ArtifactCache
    from avtbench.plan import make_plan
    from avtbench.plugins import registry as installed
    from avtbench.runner import Runner
    from avtbench.store import ResultStore

    registry = dataclasses.replace(installed(), methods=dict(installed().methods), tasks=dict(installed().tasks))
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
            return Runner(ResultStore(results), cache, plan.data).run(plan.cells[0])
    finally:
        shutil.rmtree(results, ignore_errors=True)


def _register(plugin: str | type, into: dict[str, type]) -> str:
    if isinstance(plugin, str):
        return plugin
    into[plugin.name] = plugin
    return plugin.name


def _fail(reason: str) -> None:
    raise AssertionError(reason)


class _one_thread:
    """Torch on one thread while checking: reproducible, and fast for tiny models."""

    def __enter__(self) -> None:
        import torch

        self.threads = torch.get_num_threads()
        torch.set_num_threads(1)

    def __exit__(self, *exc: Any) -> None:
        import torch

        torch.set_num_threads(self.threads)

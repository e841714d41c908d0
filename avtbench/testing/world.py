"""What every check stands on: the tiny world, configs with the tiny preset, the config checks, one thread."""
from __future__ import annotations

import atexit
import dataclasses
import shutil
import tempfile
from pathlib import Path
from typing import Any, Callable

from avtbench import config as cfg
from avtbench.api import UserError
from avtbench.testing.report import _Recorder

TINY_PRESET = "tiny"
TINY_DATA = {"profile": "tiny", "world_seed": 0}


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


class _one_thread:
    """Torch on one thread while checking: reproducible, and fast for tiny models."""

    def __enter__(self) -> None:
        import torch

        self.threads = torch.get_num_threads()
        torch.set_num_threads(1)

    def __exit__(self, *exc: Any) -> None:
        import torch

        torch.set_num_threads(self.threads)

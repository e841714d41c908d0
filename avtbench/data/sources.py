"""Resolve a dataset name to a `DatasetSource`: a real root the user configured, else a provider.

The data layer knows no dataset by name: datasets are declared by plugins (`avtbench_datasets`),
and a provider (the synthetic world, wired in by the plan) writes those it can make. Fingerprints,
which key every cache entry and cell, are computed once per dataset and run.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Protocol

from avtbench.api import Dataset, DatasetSource, UserError
from avtbench.config import setting
from avtbench.hashing import SPACED, hash_json

ROOT_SUFFIX = "_root"


@dataclass
class DataConfig:
    """Data settings (the `data` section of a config; `--set data.<field>=...`).

    root: a folder holding real datasets as sub-folders named after them (`ave/`, `avvp/`, ...);
          datasets missing there come from the synthetic world.
    roots: per-dataset real roots, set as `data.<dataset>_root` for any declared dataset; they
           override `root`.
    profile: profile of the synthetic world: "default" (hard: nonlinear renderings, unpaired events,
             background sounds, audio-visual offsets), "easy" (the same sizes, nearly linear, no
             background, no offsets), "tiny" (easy, for tests) or "paper" (real feature sizes, hard).
    world_seed: seed of the synthetic world (independent of the cell seed).
    world: the synthetic world's knobs that differ from the profile's (`Knobs` in
           avtbench/synth/profiles.py), e.g. `--set data.world.nonlinearity=2` or, in YAML,
           `data: {world: {nonlinearity: 2, max_lag: 0}}`.
    """

    root: str | None = None
    roots: dict[str, str] = field(default_factory=dict)
    profile: str = "default"
    world_seed: int = setting(0, low=0, high=2**32 - 1)
    world: dict[str, Any] = field(default_factory=dict)


def split_roots(values: Mapping[str, Any], datasets: Mapping[str, Dataset]) -> tuple[dict[str, Any], dict[str, str]]:
    """(the other settings, {dataset: root}) of a `data` section; `<name>_root` must name a dataset."""
    rest, roots = {}, {}
    for key, value in values.items():
        if key.startswith("world."):  # --set data.world.<knob>=value
            world = rest.setdefault("world", {})
            if isinstance(world, dict):
                world[key.split(".", 1)[1]] = value
        elif key.endswith(ROOT_SUFFIX) and key != "root":
            name = key[: -len(ROOT_SUFFIX)]
            if name not in datasets:
                known = ", ".join(f"{d}{ROOT_SUFFIX}" for d in sorted(datasets)) or "none"
                raise UserError(f"data.{key}: no dataset {name!r} is declared; per-dataset roots: {known}")
            if value is not None:
                roots[name] = str(value)
        else:
            rest[key] = value
    return rest, roots


class Provider(Protocol):
    """Writes datasets in their real on-disk format when no real root is configured."""

    name: str

    def provides(self, dataset: str) -> bool: ...

    def root(self, dataset: str, level: str = "features") -> Path:
        """The folder of `dataset` holding `level`, written first if needed (and only what is needed)."""

    def fingerprint(self, dataset: str) -> str:
        """A stable id of what `root(dataset)` holds, known without writing it."""

    def descriptions(self, dataset: str) -> dict[str, str]:
        """How this copy's captions describe each class."""


class DatasetResolver:
    """Datasets by name for one run: each resolved once, each fingerprinted once."""

    def __init__(self, datasets: Mapping[str, Dataset], config: DataConfig, provider: Provider | None = None) -> None:
        self.datasets = dict(datasets)
        self.config = config
        self.provider = provider
        self._fingerprints: dict[str, str] = {}
        self._sources: dict[tuple[str, str], DatasetSource] = {}

    def dataset(self, name: str) -> Dataset:
        if name not in self.datasets:
            known = ", ".join(sorted(self.datasets)) or "none"
            raise UserError(f"no dataset {name!r} is declared (known: {known}); install the plugin that declares it")
        return self.datasets[name]

    def check(self, name: str) -> None:
        """Fail now, before any work, when `name` can be found neither on disk nor from the provider."""
        self.dataset(name)
        if self.real_root(name) is None and not self._provided(name):
            raise UserError(f"dataset {name!r} has no real root and no provider writes it; "
                            f"set data.{name}{ROOT_SUFFIX}=/path/to/{name} or data.root")

    def real_root(self, name: str) -> Path | None:
        explicit = self.config.roots.get(name)
        if explicit:
            path = Path(explicit).expanduser()
            if not path.is_dir():
                raise UserError(f"data root for {name} not found: {path}; fix data.{name}{ROOT_SUFFIX} or remove it to use the synthetic world")
            return path
        if self.config.root:
            base = Path(self.config.root).expanduser()
            if not base.is_dir():
                raise UserError(f"data root not found: {base}; fix data.root or remove it to use the synthetic world")
            if (base / name).is_dir():
                return base / name
        return None

    def source(self, name: str, level: str = "features") -> DatasetSource:
        """The dataset at `level`; a provided one is written on first use, at that level only."""
        if (name, level) not in self._sources:
            dataset = self.dataset(name)
            real = self.real_root(name)
            if real is not None:
                self._sources[(name, level)] = DatasetSource(dataset, real, origin="real").at_level(level)
            elif self._provided(name):
                assert self.provider is not None
                root = self.provider.root(name, level)
                self._sources[(name, level)] = DatasetSource(dataset, root, level, self.provider.name,
                                                             self.provider.descriptions(name))
            else:
                self.check(name)
        return self._sources[(name, level)]

    def fingerprint(self, name: str) -> str:
        """Stable id of a dataset's content: the provider's for provided data, file stats for real data."""
        if name not in self._fingerprints:
            real = self.real_root(name)
            if real is None:
                self.check(name)
                assert self.provider is not None
                self._fingerprints[name] = self.provider.fingerprint(name)
            else:
                payload = {"real": str(real.resolve()), "files": _file_stats(real)}
                self._fingerprints[name] = hash_json(payload, form=SPACED)
        return self._fingerprints[name]

    def origin(self, name: str) -> str:
        return "real" if self.real_root(name) is not None else (self.provider.name if self.provider else "none")

    def _provided(self, name: str) -> bool:
        return self.provider is not None and self.provider.provides(name)


def _file_stats(root: Path) -> list[tuple[str, int, int]]:
    stats = []
    for dirpath, _, files in os.walk(root):
        for f in sorted(files):
            p = Path(dirpath) / f
            st = p.stat()
            stats.append((str(p.relative_to(root)), st.st_size, int(st.st_mtime)))
    return sorted(stats)

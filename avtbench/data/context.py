"""Where each dataset's files are: a configured real root, or the synthetic world generated on first use."""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from avtbench.api import UserError

DATASET_NAMES = ("corpus", "ave", "avvp", "retrieval")
LEVELS = ("features", "raw")


@dataclass
class DataConfig:
    """Data settings (the `data` section of a config; `--set data.<field>=...`).

    root: a folder holding real datasets as sub-folders named after them (`ave/`, `avvp/`,
          `corpus/`); datasets missing there come from the synthetic world.
    ave_root, avvp_root, corpus_root: per-dataset real roots, overriding `root`.
    profile: size profile of the synthetic world: "default" (small, fast) or "paper" (real feature dims).
    world_seed: seed of the synthetic world (independent of the cell seed).
    """

    root: str | None = None
    ave_root: str | None = None
    avvp_root: str | None = None
    corpus_root: str | None = None
    profile: str = "default"
    world_seed: int = 0


class DataContext:
    """Resolves dataset names to folders and fingerprints them for cache keys."""

    def __init__(self, config: DataConfig, cache_dir: Path, level: str = "features") -> None:
        if level not in LEVELS:
            raise UserError(f"unknown input level {level!r}; a method's input_level is one of {', '.join(LEVELS)}")
        self.config = config
        self.cache_dir = Path(cache_dir)
        self.level = level
        """Which level readers should return: tasks pass `data.level` on to the readers."""

    def real_root(self, name: str) -> Path | None:
        explicit = getattr(self.config, f"{name}_root", None)
        if explicit:
            path = Path(explicit).expanduser()
            if not path.is_dir():
                raise UserError(f"data root for {name} not found: {path}; fix data.{name}_root or remove it to use the synthetic world")
            return path
        if self.config.root:
            base = Path(self.config.root).expanduser()
            if not base.is_dir():
                raise UserError(f"data root not found: {base}; fix data.root or remove it to use the synthetic world")
            if (base / name).is_dir():
                return base / name
        return None

    def root(self, name: str) -> Path:
        """Folder with dataset `name` in its real on-disk format."""
        real = self.real_root(name)
        if real is not None:
            return real
        return self.synth_root() / name

    def is_synthetic(self, name: str) -> bool:
        return self.real_root(name) is None

    def synth_root(self) -> Path:
        from avtbench.synth.world import GENERATOR_VERSION, ensure_world

        key = f"{self.config.profile}-seed{self.config.world_seed}-v{GENERATOR_VERSION}"
        return ensure_world(self.cache_dir / "synth" / key, profile=self.config.profile, seed=self.config.world_seed)

    def fingerprint(self, name: str) -> str:
        """Stable id of a dataset's content: generator settings for synthetic data, file stats for real data."""
        real = self.real_root(name)
        if real is None:
            from avtbench.synth.world import GENERATOR_VERSION

            payload = {"synth": GENERATOR_VERSION, "profile": self.config.profile, "seed": self.config.world_seed, "name": name}
        else:
            payload = {"real": str(real.resolve()), "files": _file_stats(real)}
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


def _file_stats(root: Path) -> list[tuple[str, int, int]]:
    stats = []
    for dirpath, _, files in os.walk(root):
        for f in sorted(files):
            p = Path(dirpath) / f
            st = p.stat()
            stats.append((str(p.relative_to(root)), st.st_size, int(st.st_mtime)))
    return sorted(stats)

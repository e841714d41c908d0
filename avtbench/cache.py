"""Content-addressed artifacts: pretrained checkpoints (folders a method saves) and per-modality embeddings (.npy).

Pretrained backbones live under `<root>/backbones/`, the synthetic world under `<root>/synth/`."""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np

from avtbench.atomic import atomic_path, move_aside, prepare_folder, publish_folder
from avtbench.errors import DamagedArtifact

CHECKPOINT_META = "meta.json"


def default_cache_dir() -> Path:
    """`$AVTBENCH_CACHE`, else `~/.cache/avtbench`: the one default of every artifact's home."""
    return Path(os.environ.get("AVTBENCH_CACHE") or Path.home() / ".cache" / "avtbench")


class ArtifactCache:
    def __init__(self, root: str | Path | None = None) -> None:
        self.root = Path(root) if root else default_cache_dir()

    def checkpoint_dir(self, key: str) -> Path:
        """A pretrained method: what `Method.save` wrote, plus `meta.json` (written last)."""
        return self.root / "checkpoints" / key

    def has_checkpoint(self, key: str) -> bool:
        return (self.checkpoint_dir(key) / CHECKPOINT_META).is_file()

    def publish_checkpoint(self, key: str, save: Callable[[Path], None], meta: dict[str, Any]) -> Path:
        """Write a checkpoint folder with `save(folder)` and `meta`, published atomically."""

        def write(folder: Path) -> None:
            save(folder)
            (folder / CHECKPOINT_META).write_text(json.dumps(meta, indent=2, default=str) + "\n")

        return publish_folder(self.checkpoint_dir(key), write, complete=CHECKPOINT_META)

    def checkpoint_meta(self, key: str) -> dict[str, Any]:
        path = self.checkpoint_dir(key) / CHECKPOINT_META
        try:
            return json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise DamagedArtifact(f"cached checkpoint {path.parent} has an unreadable {CHECKPOINT_META} "
                                  f"({type(exc).__name__}); delete it to retrain") from None

    def set_aside_checkpoint(self, key: str) -> Path:
        """Move a damaged checkpoint folder aside (`<key>.corrupt-<time>`), so that it is pretrained again."""
        return move_aside(self.checkpoint_dir(key))

    def lock(self, name: str) -> Any:
        """A file lock on one artifact: processes sharing the cache wait for each other instead of
        making the same artifact twice."""
        from filelock import FileLock

        folder = self.root / "locks"
        folder.mkdir(parents=True, exist_ok=True)
        return FileLock(str(folder / f"{name}.lock"))

    def prepare(self) -> None:
        """Create the cache folder now, so that a bad `--cache` / $AVTBENCH_CACHE fails before any work."""
        prepare_folder(self.root, "--cache (or $AVTBENCH_CACHE)")

    @contextmanager
    def workdir(self, key: str) -> Iterator[Path]:
        """An empty scratch folder for one pretraining, removed afterwards."""
        base = self.root / "work"
        base.mkdir(parents=True, exist_ok=True)
        folder = Path(tempfile.mkdtemp(prefix=f"{key}-", dir=base))
        try:
            yield folder
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def embedding_path(self, key: str) -> Path:
        return self.root / "embeddings" / f"{key}.npy"

    def load_embedding(self, key: str) -> np.ndarray | None:
        """The embedding `key`, memory-mapped read-only (pages are read as a task touches them); None
        when absent or unreadable (a truncated file does not map)."""
        path = self.embedding_path(key)
        if not path.is_file():
            return None
        try:
            return np.load(path, mmap_mode="r", allow_pickle=False)
        except Exception:
            return None

    @contextmanager
    def embedding_file(self, key: str) -> Iterator[Callable[[tuple[int, ...]], np.ndarray]]:
        """Write embedding `key` as it is made: the caller calls the yielded `open(shape)` once, for a
        float32 memory map of that shape in a temporary file, and fills it; on leaving, the file is
        published (renamed into place) whole, or, on an error, removed."""
        with atomic_path(self.embedding_path(key)) as tmp:
            opened: list[np.ndarray] = []

            def open_map(shape: tuple[int, ...]) -> np.ndarray:
                opened.append(np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float32, shape=shape))
                return opened[-1]

            yield open_map
            if not opened:
                raise ValueError("embedding_file: nothing was written")
            opened[-1].flush()
            del opened[:]

    def save_embedding(self, key: str, array: np.ndarray) -> None:
        with atomic_path(self.embedding_path(key)) as tmp:
            with open(tmp, "wb") as fh:
                np.save(fh, array, allow_pickle=False)

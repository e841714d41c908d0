"""Content-addressed artifacts: pretrained checkpoints (safetensors) and per-modality embeddings (.npy)."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from avtbench.api import UserError
from avtbench.atomic import atomic_path, write_text_atomic


def default_cache_dir() -> Path:
    return Path(os.environ.get("AVTBENCH_CACHE") or Path.home() / ".cache" / "avtbench")


class ArtifactCache:
    def __init__(self, root: str | Path | None = None) -> None:
        self.root = Path(root) if root else default_cache_dir()

    def checkpoint_path(self, key: str) -> Path:
        return self.root / "checkpoints" / f"{key}.safetensors"

    def has_checkpoint(self, key: str) -> bool:
        return self.checkpoint_path(key).is_file() and self._meta_path(key).is_file()

    def save_checkpoint(self, key: str, state: dict[str, Any], meta: dict[str, Any]) -> None:
        from safetensors.torch import save_file

        tensors = {k: v.detach().cpu().contiguous() for k, v in state.items()}
        with atomic_path(self.checkpoint_path(key)) as tmp:
            save_file(tensors, str(tmp))
        write_text_atomic(self._meta_path(key), json.dumps(meta, indent=2, default=str))

    def load_checkpoint(self, key: str) -> tuple[dict[str, Any], dict[str, Any]]:
        from safetensors.torch import load_file

        path = self.checkpoint_path(key)
        try:
            state = load_file(str(path))
            meta = json.loads(self._meta_path(key).read_text())
        except Exception as exc:
            raise UserError(f"cached checkpoint {path} is unreadable ({type(exc).__name__}); delete it to retrain") from None
        return state, meta

    def _meta_path(self, key: str) -> Path:
        return self.root / "checkpoints" / f"{key}.json"

    def embedding_path(self, key: str) -> Path:
        return self.root / "embeddings" / f"{key}.npy"

    def load_embedding(self, key: str) -> np.ndarray | None:
        path = self.embedding_path(key)
        if not path.is_file():
            return None
        try:
            return np.load(path, allow_pickle=False)
        except Exception:
            return None

    def save_embedding(self, key: str, array: np.ndarray) -> None:
        with atomic_path(self.embedding_path(key)) as tmp:
            with open(tmp, "wb") as fh:
                np.save(fh, array, allow_pickle=False)

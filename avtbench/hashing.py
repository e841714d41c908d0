"""Stable content hashes for cache keys and cell identities. Imports numpy only to hash an array (the
result store, and with it `avtbench table`, hashes JSON only)."""
from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np


def canonical_json(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)


def hash_json(obj: Any, length: int = 16) -> str:
    return hashlib.sha256(canonical_json(obj).encode()).hexdigest()[:length]


def hash_array(array: np.ndarray | list, length: int = 16) -> str:
    """Hash of an array's dtype, shape and bytes (or of a list of strings). A lazy array (one with
    `blocks`, see `avtbench.data.rows`) is read block by block: the same hash in bounded memory."""
    import numpy as np

    digest = hashlib.blake2b(digest_size=16)
    if hasattr(array, "blocks") and not isinstance(array, np.ndarray):
        digest.update(f"{np.dtype(array.dtype).str}{tuple(array.shape)}".encode())
        for _, block in array.blocks():
            digest.update(memoryview(np.ascontiguousarray(block, dtype=array.dtype)).cast("B"))
    elif isinstance(array, np.ndarray):
        digest.update(f"{array.dtype.str}{array.shape}".encode())
        digest.update(memoryview(np.ascontiguousarray(array)).cast("B"))
    else:
        digest.update(canonical_json(list(array)).encode())
    return digest.hexdigest()[:length]

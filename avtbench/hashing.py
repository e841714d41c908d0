"""Stable content hashes for cache keys and cell identities."""
from __future__ import annotations

import hashlib
import json
from typing import Any

import numpy as np


def canonical_json(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)


def hash_json(obj: Any, length: int = 16) -> str:
    return hashlib.sha256(canonical_json(obj).encode()).hexdigest()[:length]


def hash_array(array: np.ndarray | list, length: int = 16) -> str:
    """Hash of an array's dtype, shape and bytes (or of a list of strings)."""
    digest = hashlib.blake2b(digest_size=16)
    if isinstance(array, np.ndarray):
        digest.update(f"{array.dtype.str}{array.shape}".encode())
        digest.update(memoryview(np.ascontiguousarray(array)).cast("B"))
    else:
        digest.update(canonical_json(list(array)).encode())
    return digest.hexdigest()[:length]

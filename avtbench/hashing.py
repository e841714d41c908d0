"""Stable content hashes for cache keys and cell identities. Imports numpy only to hash an array (the
result store, and with it `avtbench table`, hashes JSON only)."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    import numpy as np


@dataclass(frozen=True)
class JsonForm:
    """How an object is written as JSON before it is hashed: the digest is of these bytes, so a key
    must keep the form it was first computed in, or every artifact cached under it is orphaned."""

    separators: tuple[str, str] = (",", ":")
    sort_keys: bool = True
    default: Callable[[Any], Any] | None = str
    """Applied to what JSON cannot write (None: such an object is a TypeError, as `json.dumps` has it)."""

    def dumps(self, obj: Any) -> str:
        return json.dumps(obj, sort_keys=self.sort_keys, separators=self.separators, default=self.default)


CANONICAL = JsonForm()
"""Compact and sorted, anything else written as its `str`: the form of cell hashes and new keys."""
SPACED = JsonForm(separators=(", ", ": "), default=None)
"""`json.dumps(obj, sort_keys=True)`'s own bytes: the form of the keys plugins computed by hand before
`hash_json` took a form (of triplet sets, a synthetic captioner, local backbone folders), kept so
that what is cached under them stays found."""


SPACED_LISTS = JsonForm(separators=(", ", ": "), default=list)
"""`json.dumps(obj, sort_keys=True, default=list)`'s bytes: the form of the synthetic backbones' keys."""


def canonical_json(obj: Any) -> str:
    return CANONICAL.dumps(obj)


def json_digest(obj: Any, form: JsonForm = CANONICAL) -> Any:
    """The `hashlib.sha256` object of `obj` written in `form`, open for more bytes (`update`) before it is read."""
    return hashlib.sha256(form.dumps(obj).encode())


def hash_json(obj: Any, length: int = 16, form: JsonForm = CANONICAL) -> str:
    """The first `length` hex digits of the sha256 of `obj` written in `form`."""
    return json_digest(obj, form).hexdigest()[:length]


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

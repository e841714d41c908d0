"""Reading a corpus in bounded blocks (plugin API 3): per-segment views, block reads and content
hashes that never hold a whole corpus array.

The arrays may be lazy `RowArray`s (every read is a disk read) or numpy arrays (tests, API 2
callers); both are only ever indexed by at most `BLOCK_ROWS` rows at a time here.
"""
from __future__ import annotations

import hashlib
from typing import Any

import numpy as np

from avtbench.data.rows import BLOCK_ROWS, RowArray


def read_in_blocks(array: Any, rows: np.ndarray) -> np.ndarray:
    """`array[rows]` (any order, repeats allowed) in reads of at most BLOCK_ROWS rows."""
    rows = np.asarray(rows, dtype=np.int64)
    if len(rows) <= BLOCK_ROWS:
        return np.asarray(array[rows])
    return np.concatenate([np.asarray(array[rows[s:s + BLOCK_ROWS]]) for s in range(0, len(rows), BLOCK_ROWS)])


class SegmentRows(RowArray):
    """Row m is segment `steps[m]` of corpus row `clips[m]`: the frame `source[clip, step]` of raw
    visual [N, T, S, S, 3], or with `width` the samples [step * width, (step + 1) * width) of raw
    audio [N, T * width]. Reading rows reads only the clips they come from."""

    def __init__(self, source: Any, clips: np.ndarray, steps: np.ndarray, width: int = 0, dtype: Any = None) -> None:
        self.source, self.width = source, int(width)
        self.clips = np.asarray(clips, dtype=np.int64)
        self.steps = np.broadcast_to(np.asarray(steps, dtype=np.int64), self.clips.shape)
        row_shape = (self.width,) if self.width else tuple(source.shape[2:])
        self.shape = (len(self.clips), *(int(d) for d in row_shape))
        self.dtype = np.dtype(dtype or source.dtype)

    def read(self, rows: np.ndarray) -> np.ndarray:
        unique, inverse = np.unique(self.clips[rows], return_inverse=True)
        block, steps = read_in_blocks(self.source, unique), self.steps[rows]
        if self.width:
            picked = block[inverse[:, None], steps[:, None] * self.width + np.arange(self.width)]
        else:
            picked = block[inverse, steps]
        return picked.astype(self.dtype, copy=False)


def every_segment(source: Any, steps: int, rows: np.ndarray | None = None, width: int = 0,
                  dtype: Any = None) -> SegmentRows:
    """Every segment of `rows` (all clips when None), segment-major within each clip."""
    rows = np.arange(len(source)) if rows is None else np.asarray(rows, dtype=np.int64)
    return SegmentRows(source, np.repeat(rows, steps), np.tile(np.arange(steps), len(rows)), width, dtype)


def fingerprint(inputs: Any, captions: list[str]) -> str:
    """`avtbench.backbones.synthetic.data_fingerprint(inputs, captions)`, the same hash (so cached
    backbones are found again), with `inputs` read block by block instead of whole."""
    digest = hashlib.sha256(f"{np.dtype(inputs.dtype)}|{tuple(int(d) for d in inputs.shape)}|".encode())
    hash_blocks(digest, inputs)
    digest.update("\n".join(captions).encode())
    return digest.hexdigest()[:16]


def hash_blocks(digest: Any, array: Any) -> None:
    """Feed the C-order bytes of `array` to `digest`, BLOCK_ROWS rows at a time."""
    for start in range(0, len(array), BLOCK_ROWS):
        digest.update(memoryview(np.ascontiguousarray(array[start:start + BLOCK_ROWS])).cast("B"))

"""Lazy feature arrays: `RowArray`s read the rows asked for from disk, never the whole array.

A reader hands these out in `Clips` (plugin API 3): `clips.audio[rows]`, `clips.audio[a:b]` and
`clips.audio[i]` read just those rows (from HDF5 files, per-clip files or .npy files), so that a
corpus of any size costs the memory of one batch. `np.asarray(array)` still materialises the whole
array (what the core does for a plugin of API 2, which expects arrays in memory).

Every read checks what it read: a NaN or inf, or a chunk that cannot be read, is a `UserError`
naming the file, the row and the fix, met when the row is first read rather than in a full pass
over the corpus up front.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np

from avtbench.data.h5direct import file_identity, read_rows, row_offsets
from avtbench.errors import UserError

BLOCK_ROWS = 256
"""Most rows read at a time when an array is materialised or walked block by block."""
BLOCK_BYTES = 32 * 2**20
"""...and at most about this many bytes (a raw waveform is 640 kB, a VGG19 pool5 clip 1 MB)."""


class RowArray(ABC):
    """An [N, ...] array whose rows are read on demand. Index the first axis with an int, a slice or
    an integer array (any order, repeats allowed); more axes after it index the rows read."""

    shape: tuple[int, ...]
    dtype: np.dtype

    @abstractmethod
    def read(self, rows: np.ndarray) -> np.ndarray:
        """The rows `rows` (int64, any order) as an in-memory array [len(rows), ...]."""

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, key: Any) -> np.ndarray:
        first, rest = (key[0], key[1:]) if isinstance(key, tuple) else (key, ())
        if isinstance(first, (int, np.integer)):
            row = int(first) + (len(self) if first < 0 else 0)
            if not 0 <= row < len(self):
                raise IndexError(f"row {first} out of range for {len(self)} rows")
            picked = self.read(np.array([row], dtype=np.int64))[0]
            return picked[rest] if rest else picked
        if isinstance(first, slice):
            rows = np.arange(len(self), dtype=np.int64)[first]
        else:
            rows = np.asarray(first)
            if rows.dtype == bool:
                if rows.shape != (len(self),):  # numpy would index the first axes by it; rows are one axis
                    raise IndexError(f"a boolean row mask must have shape ({len(self)},), got {rows.shape}; "
                                     "read the rows first (array[:]) to mask more axes")
                rows = np.flatnonzero(rows)
            rows = rows.astype(np.int64)
            if rows.size and (rows.min() < -len(self) or rows.max() >= len(self)):
                raise IndexError(f"rows out of range for {len(self)} rows")
            rows = np.where(rows < 0, rows + len(self), rows)
        picked = self.read(rows)
        return picked[(slice(None), *rest)] if rest else picked

    def take(self, rows: np.ndarray | list[int]) -> "RowArray":
        """A lazy view of the given rows (nothing is read)."""
        return TakenRows(self, np.asarray(rows, dtype=np.int64))

    def blocks(self, size: int | None = None) -> Iterator[tuple[int, np.ndarray]]:
        """(first row, rows) of consecutive blocks of `size` rows (default: BLOCK_ROWS, fewer where rows
        are large, see BLOCK_BYTES): one pass in bounded memory."""
        row_bytes = int(np.prod(self.shape[1:], dtype=np.int64)) * np.dtype(self.dtype).itemsize
        size = size or max(1, min(BLOCK_ROWS, BLOCK_BYTES // max(row_bytes, 1)))
        for start in range(0, len(self), size):
            yield start, self[start:start + size]

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        out = np.empty(self.shape, dtype=self.dtype)
        for start, block in self.blocks():
            out[start:start + len(block)] = block
        return out if dtype is None else out.astype(dtype, copy=False)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(shape={self.shape}, dtype={self.dtype})"


def materialize(array: Any) -> Any:
    """`array` in memory: a RowArray read whole, anything else as it is."""
    return np.asarray(array) if isinstance(array, RowArray) else array


def is_lazy(array: Any) -> bool:
    return isinstance(array, RowArray)


class TakenRows(RowArray):
    """Rows `index` of another RowArray, still lazy."""

    def __init__(self, base: RowArray, index: np.ndarray) -> None:
        if index.size and (index.min() < 0 or index.max() >= len(base)):
            raise IndexError(f"rows out of range for {len(base)} rows")
        self.base, self.index = base, index
        self.shape, self.dtype = (len(index), *base.shape[1:]), base.dtype

    def read(self, rows: np.ndarray) -> np.ndarray:
        return self.base.read(self.index[rows])

    def take(self, rows: np.ndarray | list[int]) -> RowArray:
        return TakenRows(self.base, self.index[np.asarray(rows, dtype=np.int64)])


class MemoryRows(RowArray):
    """An in-memory array behind the RowArray interface (tests, and arrays built on the fly)."""

    def __init__(self, array: np.ndarray) -> None:
        self.array = array
        self.shape, self.dtype = tuple(array.shape), array.dtype

    def read(self, rows: np.ndarray) -> np.ndarray:
        return self.array[rows]


class H5Rows(RowArray):
    """Dataset `key` of an HDF5 file, read by rows (chunked files read only the chunks they need).

    rows: which file row each of this array's rows is (None: all, in order).
    row_shape: the shape each row is given after reading (e.g. [T, D] visual as [T, 1, 1, D]).
    The file is opened once per process (DataLoader workers open their own handle)."""

    def __init__(self, path: Path, key: str, fix: str, rows: np.ndarray | None = None,
                 row_shape: tuple[int, ...] | None = None, dtype: Any = np.float32, file_shape: tuple[int, ...] | None = None) -> None:
        self.path, self.key, self.fix = Path(path), key, fix
        self.file_shape = tuple(file_shape) if file_shape is not None else _h5_shape(self.path, key, fix)
        self.rows = None if rows is None else np.asarray(rows, dtype=np.int64)
        count = self.file_shape[0] if self.rows is None else len(self.rows)
        self.shape = (count, *(row_shape or self.file_shape[1:]))
        self.dtype = np.dtype(dtype)

    def read(self, rows: np.ndarray) -> np.ndarray:
        file_rows = rows if self.rows is None else self.rows[rows]
        if file_rows.size == 0:
            return np.empty((0, *self.shape[1:]), dtype=self.dtype)
        try:
            block = self._read_direct(file_rows)  # in the order asked for: no second copy
            if block is None:
                unique, inverse = np.unique(file_rows, return_inverse=True)
                with _open(self.path) as handle:
                    block = _read_runs(handle[self.key], unique, self.dtype)
                if len(unique) != len(file_rows) or np.any(unique != file_rows):
                    block = block[inverse]  # another order, or repeats: one more copy
        except (OSError, ValueError, KeyError, RuntimeError, TypeError) as exc:
            detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise UserError(f"{self.path}: rows {file_rows.min()}-{file_rows.max()} of {self.key!r} cannot be read "
                            f"({detail}); {self.fix}") from None
        check_finite_rows(self.path, block, file_rows, self.fix)
        return block.reshape((len(rows), *self.shape[1:]))

    def _read_direct(self, rows: np.ndarray) -> np.ndarray | None:
        """The rows read with `h5direct` (a copy from the page cache), or None where the file's layout
        does not allow it. The offsets are found once per file version."""
        where = getattr(self, "_offsets", None)
        if where is None or where.identity != file_identity(self.path):
            if getattr(self, "_not_direct", False):
                return None
            with _open(self.path) as handle:
                where = self._offsets = row_offsets(self.path, handle[self.key], self.dtype)
            if where is None:
                self._not_direct = True
                return None
        out = np.empty((len(rows), *self.file_shape[1:]), dtype=self.dtype)
        read_rows(self.path, where, rows, out)
        return out


def _read_runs(dataset: Any, rows: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """dataset[rows] for increasing unique `rows`, one slice per run of consecutive rows: h5py's own
    fancy indexing is ~50x slower on files chunked by row (it selects point by point)."""
    out = np.empty((len(rows), *dataset.shape[1:]), dtype=dtype)
    breaks = np.flatnonzero(np.diff(rows) != 1) + 1
    for start, stop in zip(np.concatenate([[0], breaks]), np.concatenate([breaks, [len(rows)]])):
        first = int(rows[start])
        out[start:stop] = dataset[first:first + stop - start]
    return out


class PerClipRows(RowArray):
    """One file per row (per-clip .npy features, .wav waveforms, .png frames): `load(row)` reads one."""

    def __init__(self, load: Callable[[int], np.ndarray], count: int, row_shape: tuple[int, ...], dtype: Any) -> None:
        self.load = load
        self.shape, self.dtype = (count, *row_shape), np.dtype(dtype)

    def read(self, rows: np.ndarray) -> np.ndarray:
        out = np.empty((len(rows), *self.shape[1:]), dtype=self.dtype)
        for i, row in enumerate(rows):
            out[i] = self.load(int(row))
        return out


def check_finite_rows(path: Path, block: np.ndarray, file_rows: np.ndarray, fix: str) -> None:
    """A UserError naming the first file row of `block` holding a NaN or inf (float arrays only). A
    finite sum rules both out at a fraction of an element-wise test's cost."""
    if block.dtype.kind != "f" or np.isfinite(block.sum()) or np.isfinite(block).all():
        return
    bad = int(np.argmin(np.isfinite(block).reshape(len(block), -1).all(axis=1)))
    raise UserError(f"{path}: features contain NaN or inf (row {int(file_rows[bad])}); {fix}")


def _open(path: Path) -> Any:
    """A read-only handle of `path`, for one read. Not kept open between reads: HDF5 refuses to write
    a file that any handle of the process holds, and a cache folder may be written again (opening
    costs well under a millisecond next to reading a batch)."""
    import h5py

    return h5py.File(path, "r")


def _h5_shape(path: Path, key: str, fix: str) -> tuple[int, ...]:
    try:
        with _open(path) as handle:
            dataset = handle.get(key)
            shape = None if dataset is None or not hasattr(dataset, "shape") else tuple(dataset.shape)
    except (OSError, ValueError, RuntimeError) as exc:
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise UserError(f"{path}: corrupt or truncated HDF5 file ({detail}); {fix}") from None
    if shape is None:
        raise UserError(f"{path}: no dataset {key!r}; {fix}")
    return shape

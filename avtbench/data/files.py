"""File reading shared by the dataset readers: every bad file becomes a one-line UserError."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, TypeVar

import numpy as np

from avtbench.api import UserError
from avtbench.data.rows import H5Rows

FEATURE_KEY = "avadataset"
T = TypeVar("T")

def require_dir(path: Path, what: str) -> Path:
    if not path.is_dir():
        raise UserError(f"{path}: {what} folder not found; fix the data root or remove it to use the synthetic world")
    return path


def require_file(path: Path, fix: str) -> Path:
    if not path.is_file():
        raise UserError(f"{path}: file not found; {fix}")
    return path


def read_text(path: Path, fix: str) -> str:
    require_file(path, fix)
    try:
        return path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: unreadable text file ({type(exc).__name__}); {fix}") from None


def read_h5(path: Path, key: str, fix: str, rows: np.ndarray | None = None) -> np.ndarray:
    """Dataset `key` of an .h5 file (all of it, or the given rows), bad input turned into UserError."""
    return with_h5_dataset(path, key, fix, lambda ds: ds[()] if rows is None else _take_rows(ds, rows))


def h5_shape(path: Path, key: str, fix: str) -> tuple[int, ...]:
    return with_h5_dataset(path, key, fix, lambda ds: tuple(ds.shape))


def read_h5_rows(
    path: Path,
    key: str,
    rows: np.ndarray,
    n_rows: tuple[int, str],
    shape: tuple[int | None, ...],
    fix: str,
    alt_shape: tuple[int | None, ...] | None = None,
) -> np.ndarray:
    """Rows of a float dataset [N, *shape] (None = any size), checked, as float32.

    n_rows: (N, the file that fixes N), e.g. (4143, "Annotations.txt").
    """
    full = h5_shape(path, key, fix)
    if not full or full[0] != n_rows[0]:
        raise UserError(f"{path}: {key!r} has shape {full} but {n_rows[1]} has {n_rows[0]} rows; use files of the same release")
    if not (shape_matches(full[1:], shape) or (alt_shape is not None and shape_matches(full[1:], alt_shape))):
        want = " or ".join(_shape_text(s) for s in (shape, alt_shape) if s is not None)
        raise UserError(f"{path}: {key!r} has shape {full}, expected [N, {want}]; {fix}")
    data = read_h5(path, key, fix, rows=rows)
    return check_finite(path, np.asarray(data, dtype=np.float32), fix, rows=rows)


def h5_rows(
    path: Path,
    key: str,
    n_rows: tuple[int, str],
    shape: tuple[int | None, ...],
    fix: str,
    alt_shape: tuple[int | None, ...] | None = None,
    rows: np.ndarray | None = None,
    dtype: Any = np.float32,
) -> H5Rows:
    """A lazy view of dataset `key` [N, *shape] (None = any size) of an .h5 file: its shape is checked
    now, its rows are read (and checked for NaN) when indexed. rows: which file rows, in which order
    (default: all). A dataset of `alt_shape` [N, T, D] where `shape` is [N, T, H, W, C] is seen as
    [N, T, 1, 1, D]. n_rows: (N, the file that fixes N), e.g. (4143, "Annotations.txt")."""
    full = h5_shape(path, key, fix)
    if not full or full[0] != n_rows[0]:
        raise UserError(f"{path}: {key!r} has shape {full} but {n_rows[1]} has {n_rows[0]} rows; use files of the same release")
    row_shape = None
    if not shape_matches(full[1:], shape):
        if alt_shape is None or not shape_matches(full[1:], alt_shape):
            want = " or ".join(_shape_text(s) for s in (shape, alt_shape) if s is not None)
            raise UserError(f"{path}: {key!r} has shape {full}, expected [N, {want}]; {fix}")
        if len(shape) == 4 and len(alt_shape) == 2:
            row_shape = (full[1], 1, 1, full[2])
    return H5Rows(path, key, fix, rows=rows, row_shape=row_shape, dtype=dtype, file_shape=full)


def with_h5_dataset(path: Path, key: str, fix: str, use: Callable[[Any], T]) -> T:
    """use(dataset) on dataset `key` of an .h5 file; missing file or key and HDF5 errors become UserError."""
    import h5py

    require_file(path, fix)
    try:
        with h5py.File(path, "r") as f:
            if not isinstance(f.get(key), h5py.Dataset):
                raise UserError(f"{path}: no dataset {key!r} (has {sorted(f.keys())}); {fix}")
            return use(f[key])
    except UserError:
        raise
    except (OSError, ValueError, TypeError, RuntimeError, KeyError) as exc:
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise UserError(f"{path}: corrupt or truncated HDF5 file ({detail}); {fix}") from None


def shape_matches(actual: tuple[int, ...], expected: tuple[int | None, ...]) -> bool:
    return len(actual) == len(expected) and all(e is None or a == e for a, e in zip(actual, expected))


CHECK_ROWS = 256
"""Rows checked for NaN at a time: the check's boolean mask stays small whatever the array's size."""


def check_finite(path: Path, array: np.ndarray, fix: str, rows: np.ndarray | None = None) -> np.ndarray:
    """`array` if every value is finite; else a UserError naming the first bad row (of the file, when
    `rows` says which file row each array row is)."""
    for start in range(0, max(len(array), 1), CHECK_ROWS):
        block = array[start:start + CHECK_ROWS]
        if not np.isfinite(block).all():
            row = start + int(np.argmin(np.isfinite(block).reshape(len(block), -1).all(axis=1)))
            where = f"row {int(rows[row]) if rows is not None else row}"
            raise UserError(f"{path}: features contain NaN or inf ({where}); {fix}")
    return array


def _shape_text(shape: tuple[int | None, ...]) -> str:
    return ", ".join("*" if s is None else str(s) for s in shape)


def _take_rows(ds: Any, rows: np.ndarray) -> np.ndarray:
    """ds[rows] for any row order: h5py wants increasing unique indices, so read those and re-expand."""
    if rows.size == 0:
        return np.empty((0, *ds.shape[1:]), dtype=ds.dtype)
    if rows.size == ds.shape[0] and np.array_equal(rows, np.arange(ds.shape[0])):
        return ds[()]  # every row in order: one read, no second copy
    unique, inverse = np.unique(rows, return_inverse=True)
    if len(unique) > ds.shape[0] // 2:  # most rows wanted: one sequential read is faster
        return ds[()][rows]
    return ds[unique][inverse]

"""Rows of an uncompressed HDF5 dataset read straight from the file with `os.preadv`, at the speed of
a copy from the page cache.

h5py reads a batch of rows of a file chunked by row at a few GB/s (and point by point, ~50x slower,
with fancy indexing); the feature files of a corpus are written uncompressed, either contiguous or
chunked one row per chunk, so that each row is one run of bytes at a known offset. `RowOffsets`
finds those offsets once (HDF5's chunk index, through h5py) and `read_rows` copies the rows into the
output array with one system call each. Not a memory map: mapped pages would count in the process's
resident memory as a run walks the corpus. Anything else (compressed, byte-swapped, partly
allocated) returns None, and the caller reads through h5py.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np


@dataclass(frozen=True)
class RowOffsets:
    """Where each row of a dataset starts in its file, valid while the file is the same one."""

    identity: tuple[int, int, int]
    """(inode, size, mtime in ns) of the file the offsets were taken from."""
    offsets: np.ndarray
    row_bytes: int


def file_identity(path: Path) -> tuple[int, int, int]:
    stat = os.stat(path)
    return stat.st_ino, stat.st_size, stat.st_mtime_ns


def row_offsets(path: Path, dataset: Any, dtype: np.dtype) -> RowOffsets | None:
    """The rows' byte offsets of an h5py `dataset`, or None when its rows are not plain runs of bytes."""
    if dataset.dtype != dtype or dtype.byteorder == ">" or dataset.id.get_create_plist().get_nfilters():
        return None
    count = dataset.shape[0]
    row_bytes = int(np.prod(dataset.shape[1:], dtype=np.int64)) * dtype.itemsize
    if count == 0 or row_bytes == 0:
        return None
    contiguous = dataset.id.get_offset()
    if contiguous is not None:
        return RowOffsets(file_identity(path), contiguous + np.arange(count, dtype=np.int64) * row_bytes, row_bytes)
    if dataset.chunks != (1, *dataset.shape[1:]):
        return None
    offsets = np.full(count, -1, dtype=np.int64)

    def note(info: Any) -> None:
        if info.size == row_bytes and info.filter_mask == 0:
            offsets[info.chunk_offset[0]] = info.byte_offset

    dataset.id.chunk_iter(note)
    return None if (offsets < 0).any() else RowOffsets(file_identity(path), offsets, row_bytes)


SPAN_BYTES = 8 * 2**20
"""A batch whose rows all lie within this many bytes of the file is read in one call (small rows,
such as labels, would otherwise cost a system call each)."""


def read_rows(path: Path, where: RowOffsets, rows: np.ndarray, out: np.ndarray) -> None:
    """Rows `rows` of the dataset into `out` [len(rows), ...]; OSError on a short read (a truncated file)."""
    flat = out.reshape(len(rows), -1).view(np.uint8)
    starts = where.offsets[rows]
    fd = os.open(path, os.O_RDONLY)
    try:
        first, end = int(starts.min()), int(starts.max()) + where.row_bytes
        if len(rows) > 1 and end - first <= SPAN_BYTES:
            span = np.empty(end - first, dtype=np.uint8)
            _read_exactly(fd, span, first, rows.min())
            for i, start in enumerate(starts - first):
                flat[i] = span[start:start + where.row_bytes]
            return
        for i, row in enumerate(rows):
            _read_exactly(fd, flat[i], int(starts[i]), row)
    finally:
        os.close(fd)


def _read_exactly(fd: int, buffer: np.ndarray, offset: int, row: int) -> None:
    got = os.preadv(fd, [buffer], offset)
    if got != buffer.nbytes:
        raise OSError(f"short read at row {int(row)}: {got} of {buffer.nbytes} bytes (truncated file?)")

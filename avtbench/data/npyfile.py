""".npy files of per-clip data derived once (features of every caption, pooled features, embeddings of
every frame), written and read by rows with `pwrite` / `preadv`.

A method that needs such data again across epochs keeps it on disk under its `workdir` instead of in
RAM (plugin API 3). Not a `numpy.memmap`: the pages of a map count in the process's resident memory
as they are touched, so a map walked over the whole corpus grows with it; these reads and writes
copy only the rows asked for. The files are ordinary .npy files (`np.load` reads them).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from avtbench.data.h5direct import RowOffsets, file_identity, read_rows
from avtbench.data.rows import RowArray


class NpyRows(RowArray):
    """The rows of a C-order .npy file [N, ...], read on demand."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        with open(self.path, "rb") as fh:
            version = np.lib.format.read_magic(fh)
            readers = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
            if version not in readers:
                raise ValueError(f"{self.path}: .npy format version {version} is not read by rows here")
            shape, fortran, dtype = readers[version](fh)
            start = fh.tell()
        if fortran or not shape or dtype.hasobject:
            raise ValueError(f"{self.path}: not a C-order array of rows")
        self.shape, self.dtype = tuple(int(d) for d in shape), np.dtype(dtype)
        self.row_bytes = int(np.prod(self.shape[1:], dtype=np.int64)) * self.dtype.itemsize
        self.start = start

    def read(self, rows: np.ndarray) -> np.ndarray:
        out = np.empty((len(rows), *self.shape[1:]), dtype=self.dtype)
        if len(rows) and self.row_bytes:
            where = RowOffsets(file_identity(self.path), self.start + np.arange(len(self), dtype=np.int64) * self.row_bytes,
                               self.row_bytes)
            read_rows(self.path, where, np.asarray(rows, dtype=np.int64), out)
        return out


class NpyWriter:
    """A new .npy file of `shape` and `dtype` at `path`, filled by rows in any order:

        with NpyWriter(path, (n, t, d)) as out:
            out.write(start, block)
        rows = NpyRows(path)
    """

    def __init__(self, path: Path, shape: tuple[int, ...], dtype: Any = np.float32) -> None:
        self.path, self.shape, self.dtype = Path(path), tuple(int(d) for d in shape), np.dtype(dtype)
        self.row_bytes = int(np.prod(self.shape[1:], dtype=np.int64)) * self.dtype.itemsize
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.unlink(missing_ok=True)  # a new file: readers of an old one keep theirs
        with open(self.path, "wb") as fh:
            header = {"descr": np.lib.format.dtype_to_descr(self.dtype), "fortran_order": False, "shape": self.shape}
            np.lib.format.write_array_header_2_0(fh, header)
            self.start = fh.tell()
            fh.truncate(self.start + self.shape[0] * self.row_bytes)
        self.fd = os.open(self.path, os.O_WRONLY)

    def write(self, start: int, block: np.ndarray) -> None:
        block = np.ascontiguousarray(block, dtype=self.dtype)
        if block.shape[1:] != self.shape[1:] or not 0 <= start <= self.shape[0] - len(block):
            raise ValueError(f"rows {start}..{start + len(block)} of shape {block.shape[1:]} do not fit {self.shape}")
        os.pwrite(self.fd, memoryview(block).cast("B"), self.start + start * self.row_bytes)

    def __enter__(self) -> "NpyWriter":
        return self

    def __exit__(self, *exc: Any) -> None:
        os.close(self.fd)


def decoded_copy(array: Any, path: Path) -> Any:
    """`array` written once, block by block, to a .npy file at `path` and handed back as `NpyRows`, when
    its rows are decoded from per-clip files (wav, png, npy: `PerClipRows`) on every read; any other
    array as it is. For data read again every epoch: a row of the copy is a copy from the page cache,
    not a decoding (whose CPU time a training step on a small machine would pay for)."""
    from avtbench.data.rows import PerClipRows

    if not isinstance(array, PerClipRows):
        return array
    with NpyWriter(path, array.shape, array.dtype) as out:
        for start, block in array.blocks():
            out.write(start, block)
    return NpyRows(path)

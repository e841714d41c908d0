"""The contract of `Dataset.layout`: the files a dataset's root holds, split by split, named without reading them.

`avtbench data check` calls a dataset's `layout(root, split)` to count each split's clips against the file
that lists them, to name the files that are missing and the files nobody lists (extras), and to check
the shape and dtype of shared arrays, before it streams the split through the dataset's own reader for
non-finite values and per-clip shapes. A dataset without a layout is checked through its reader only.
Nothing here imports avtbench: a layout is plain data.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["ArrayFile", "ClipFiles", "SplitLayout"]


@dataclass(frozen=True)
class ClipFiles:
    """Files of one kind with one file per clip (per-clip features, waveforms, frames).

    kind:    what a report line calls them ("audio features").
    folder:  where they live; every file there matching `pattern` is a file of this kind, so one that
             no clip of any split names is an extra.
    paths:   the file of each clip of the split, in the split's order (where the reader would look first).
    """

    kind: str
    folder: Path
    paths: tuple[Path, ...]
    pattern: str = "*"


@dataclass(frozen=True)
class ArrayFile:
    """An array holding one row per clip of the whole dataset (an HDF5 dataset), of which the split reads rows.

    rows: the first-axis length it must have; rows_from: the file that fixes it ("Annotations.txt").
    dtypes: the numpy dtype kinds it may have ("f": float, "u": unsigned integer, ...).
    """

    kind: str
    path: Path
    key: str
    rows: int
    rows_from: str
    dtypes: str = "f"


@dataclass(frozen=True)
class SplitLayout:
    """What one split of a dataset is on disk.

    keys:       one per clip, unique within the dataset (a row number, a filename): the dataset's clips
                are the union of its splits' keys.
    listed_in:  the file(s) listing the split's clips, for the count line ("train_order.h5").
    clip_files: the per-clip files it reads; arrays: the shared arrays it reads rows of.
    absent:     non-empty for an optional split this root does not have (why, e.g. "CMG's list
                x.csv is not here"): reported, not a problem, and nothing else of it is checked.
    """

    keys: tuple[str, ...]
    listed_in: str
    clip_files: tuple[ClipFiles, ...] = ()
    arrays: tuple[ArrayFile, ...] = ()
    absent: str = ""

    @classmethod
    def not_here(cls, why: str) -> "SplitLayout":
        return cls((), "", absent=why)

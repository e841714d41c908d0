"""`avtbench data check`: every declared dataset's files checked before a long run, in bounded memory.

For each dataset: where it comes from (a real root, or the synthetic world), then split by split the
clips its id list names. With the dataset's `layout` (`avtbench.layout`): the shared arrays (present,
their key, their rows against the id list, their dtype) and the per-clip files (missing ones, extras that
no split lists, the dtype in each .npy header). Then each split whose files are all there is read through
the dataset's own reader and walked block by block (`avtbench.data.rows`): a row that cannot be read,
holds NaN or inf, or has another shape than the others is named (its file and row, as the reader says).

One line per problem: a kind of file missing for every clip is one line ("0 of 4,143 clips present"),
missing files and bad rows are named up to `NAMED` per line or array and the rest counted. The core names
no dataset: what it checks comes from the declarations.
"""
from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np

from avtbench.api import Dataset, UserError
from avtbench.data.rows import BLOCK_BYTES, BLOCK_ROWS
from avtbench.data.sources import ROOT_SUFFIX, DatasetResolver
from avtbench.layout import ArrayFile, ClipFiles, SplitLayout

NAMED = 10
"""Files or rows named before the rest are only counted."""


@dataclass
class CheckReport:
    """What a check found, over all the datasets asked for."""

    datasets: int = 0
    checked: list[str] = field(default_factory=list)
    clips: int = 0
    problems: int = 0

    def summary(self) -> str:
        skipped = self.datasets - len(self.checked)
        rest = f"; {skipped} from the synthetic world not checked (--synthetic checks them)" if skipped else ""
        return f"data check passed: {len(self.checked)} dataset(s), {self.clips:,} clips, no problem{rest}"


def check_data(resolver: DatasetResolver, names: list[str], synthetic: bool, emit: Callable[[str], None]) -> CheckReport:
    """Check the datasets `names` (every name known first: an unknown one is a UserError before any work)."""
    for name in names:
        resolver.dataset(name)
    report = CheckReport(datasets=len(names))
    for name in names:
        root = _root(resolver, name, synthetic, emit)
        if root is None:
            continue
        check = DatasetCheck(resolver.dataset(name), root, emit)
        check.run()
        report.checked.append(name)
        report.clips += check.clips
        report.problems += check.problems
    return report


def _root(resolver: DatasetResolver, name: str, synthetic: bool, emit: Callable[[str], None]) -> Path | None:
    """Where `name`'s files are (said in one line), or None when they are not to be checked."""
    real = resolver.real_root(name)
    if real is not None:
        emit(f"{name}: real root {real}")
        return real
    origin = resolver.origin(name)
    if origin == "none" or resolver.dataset(name).synthetic is None:
        emit(f"{name}: no real root and no synthetic copy; not checked (set data.{name}{ROOT_SUFFIX} or data.root)")
        return None
    if not synthetic:
        emit(f"{name}: {origin}; not checked (set data.{name}{ROOT_SUFFIX} or data.root to check real files, "
             "or pass --synthetic)")
        return None
    root = resolver.source(name).root
    emit(f"{name}: {origin} at {root}")
    return root


@dataclass
class _Shared:
    """An array file as the splits that read it need it."""

    array: ArrayFile
    splits: set[str] = field(default_factory=set)
    keys: set[str] = field(default_factory=set)


@dataclass
class _Kind:
    """Per-clip files of one kind in one folder, over the splits."""

    files: ClipFiles
    wanted: dict[Path, set[str]] = field(default_factory=dict)
    """Each expected file and the splits whose clips need it."""
    keys: set[str] = field(default_factory=set)


class DatasetCheck:
    """One dataset at one root: `run()` emits its lines and counts its clips and problems."""

    def __init__(self, dataset: Dataset, root: Path, emit: Callable[[str], None]) -> None:
        self.dataset, self.root, self.emit = dataset, Path(root), emit
        self.name = dataset.name
        self.problems = 0
        self.clips = 0
        self._said: set[str] = set()

    def problem(self, text: str) -> None:
        line = f"problem {self.name}: {text}"
        if line not in self._said:
            self._said.add(line)
            self.problems += 1
            self.emit(line)

    def run(self) -> None:
        if self.dataset.layout is None:
            layouts: dict[str, SplitLayout | None] = {split: None for split in self.dataset.splits}
            blocked: set[str] = set()
        else:
            layouts = dict(self._layouts())
            blocked = self._files(layouts)
        seen: set[str] = set()
        unread = [split for split in layouts if split in blocked]
        if unread:
            self.emit(f"{self.name}: {', '.join(unread)} not read (files incomplete or wrong, see above)")
        for split, layout in layouts.items():
            if layout is not None:
                seen.update(layout.keys)
            if split in blocked:
                continue
            ids = self._stream(split, layout)
            if layout is None and ids is not None:
                seen.update(ids)
        self.clips = len(seen)
        self.emit(f"{self.name}: {self.clips:,} clips, {self.problems or 'no'} problem{'' if self.problems == 1 else 's'}")

    def _layouts(self) -> Iterable[tuple[str, SplitLayout]]:
        assert self.dataset.layout is not None
        for split in self.dataset.splits:
            try:
                layout = self.dataset.layout(self.root, split)
            except UserError as exc:
                self.problem(str(exc))
                continue
            if layout.absent:
                self.emit(f"{self.name}/{split}: not in this root ({layout.absent})")
                continue
            self.emit(f"{self.name}/{split}: {len(layout.keys):,} clips listed in {layout.listed_in}")
            yield split, layout

    # ---- files named by the layout

    def _files(self, layouts: dict[str, SplitLayout | None]) -> set[str]:
        """Check the arrays and per-clip files of every split; return the splits not to read (a file of
        theirs is missing or wrong)."""
        shared: dict[tuple[Path, str], _Shared] = {}
        kinds: dict[tuple[str, Path], _Kind] = {}
        for split, layout in layouts.items():
            assert layout is not None
            for array in layout.arrays:
                entry = shared.setdefault((array.path, array.key), _Shared(array))
                entry.splits.add(split)
                entry.keys.update(layout.keys)
            for files in layout.clip_files:
                kind = kinds.setdefault((files.kind, files.folder), _Kind(files))
                kind.keys.update(layout.keys)
                for path in files.paths:
                    kind.wanted.setdefault(path, set()).add(split)
        absent: dict[int, list[tuple[str, str]]] = {}
        uneven: dict[tuple[int, int, str], list[str]] = {}
        blocked: set[str] = set()
        for entry in shared.values():
            array = entry.array
            if not array.path.is_file():
                absent.setdefault(len(entry.keys), []).append((array.kind, self._rel(array.path)))
                blocked |= entry.splits
            elif not self._array_ok(array, uneven):
                blocked |= entry.splits
        for kind in kinds.values():
            blocked |= self._clip_files(kind, absent)
        for count, missing in absent.items():
            what = " and ".join(dict.fromkeys(k for k, _ in missing))
            self.problem(f"{what}: 0 of {count:,} clips present ({', '.join(dict.fromkeys(p for _, p in missing))} "
                         f"not found in {self.root})")
        for (found, rows, source), arrays in uneven.items():
            self.problem(f"{source} lists {rows:,} clips but {', '.join(arrays)} hold{'s' if len(arrays) == 1 else ''} "
                         f"{found:,} rows: the id list and the arrays disagree")
        return blocked

    def _array_ok(self, array: ArrayFile, uneven: dict[tuple[int, int, str], list[str]]) -> bool:
        """Whether `array` opens, has its key and dtype and as many rows as clips (a row count that differs
        is noted in `uneven`, to be said once for every array of that count)."""
        import h5py

        where = f"{self._rel(array.path)}:{array.key} ({array.kind})"
        try:
            with h5py.File(array.path, "r") as handle:
                data = handle.get(array.key)
                if not isinstance(data, h5py.Dataset):
                    self.problem(f"{where}: no dataset {array.key!r} in the file (it has {sorted(handle.keys())})")
                    return False
                shape, dtype = tuple(data.shape), data.dtype
        except (OSError, ValueError, RuntimeError) as exc:
            self.problem(f"{where}: corrupt or truncated HDF5 file ({_first_line(exc)})")
            return False
        ok = True
        if not shape or shape[0] != array.rows:
            uneven.setdefault((shape[0] if shape else 0, array.rows, array.rows_from), []).append(
                f"{self._rel(array.path)}:{array.key}")
            ok = False
        if dtype.kind not in array.dtypes:
            self.problem(f"{where}: dtype {dtype}, expected {_kinds(array.dtypes)}")
            ok = False
        return ok

    def _clip_files(self, kind: _Kind, absent: dict[int, list[tuple[str, str]]]) -> set[str]:
        files = kind.files
        present = _listing(files.folder, files.pattern)
        missing = [p for p in kind.wanted if p not in present]
        blocked = {split for p in missing for split in kind.wanted[p]}
        where = f"{self._rel(files.folder)}/{files.pattern}"
        if len(missing) == len(kind.wanted) and missing:
            absent.setdefault(len(kind.keys), []).append((files.kind, where))
        elif missing:
            self.problem(f"{files.kind}: {len(missing):,} of {len(kind.wanted):,} files missing: {self._names(missing)}")
        extras = sorted(present - set(kind.wanted))
        if extras:
            self.problem(f"{files.kind}: {len(extras):,} file(s) in {self._rel(files.folder)} that no split lists: "
                         f"{self._names(extras)}")
        if files.pattern.endswith(".npy"):
            wrong = [p for p in sorted(present & set(kind.wanted)) if _npy_kind(p) not in ("f", None)]
            if wrong:
                self.problem(f"{files.kind}: {len(wrong):,} file(s) not of a float dtype: {self._names(wrong, dtype=True)}")
        return blocked

    # ---- reading through the reader

    def _stream(self, split: str, layout: SplitLayout | None) -> list[str] | None:
        """Read `split` and walk its arrays; the clip ids, or None when it cannot be read."""
        try:
            clips = self.dataset.reader(self.root, split, level="features")
        except UserError as exc:
            self.problem(str(exc))
            return None
        if layout is not None and len(clips) != len(layout.keys):
            self.problem(f"{split}: the reader reads {len(clips):,} clips where {layout.listed_in} lists {len(layout.keys):,}")
        before = self.problems
        arrays = [("audio", clips.audio), ("visual", clips.visual), *((f"labels[{k}]", v) for k, v in clips.labels.items())]
        shapes = []
        for label, array in arrays:
            if array is None:
                continue
            self._walk(f"{split} {label}", array, clips.ids)
            shapes.append(f"{label} {list(array.shape)} {np.dtype(array.dtype)}")
        verdict = "every row read, every value finite" if self.problems == before else "bad rows above"
        self.emit(f"{self.name}/{split}: {len(clips):,} clips read ({', '.join(shapes)}): {verdict}")
        return list(clips.ids)

    def _walk(self, label: str, array: Any, ids: list[str]) -> None:
        """Every row of `array` read once, in blocks; each bad row (unreadable, other shape, NaN or inf) named."""
        named = more = 0
        size = _block_rows(array)
        for start in range(0, len(array), size):
            stop = min(len(array), start + size)
            try:
                rows = [start + r for r in _nonfinite(np.asarray(array[start:stop]))]
            except UserError:
                rows = list(range(start, stop))  # which rows: read them one by one
            for row in rows:
                message = _row_problem(array, row, f"{label} row {row} (clip {ids[row]})")
                if message is None:
                    continue
                if named < NAMED:
                    self.problem(message)
                    named += 1
                else:
                    more += 1
        if more:
            self.problem(f"{label}: {more:,} more bad row(s) not named")

    # ---- wording

    def _rel(self, path: Path) -> str:
        try:
            return str(Path(path).relative_to(self.root))
        except ValueError:
            return str(path)

    def _names(self, paths: list[Path], dtype: bool = False) -> str:
        shown = [self._rel(p) + (f" ({_npy_dtype(p)})" if dtype else "") for p in paths[:NAMED]]
        return ", ".join(shown) + (f" and {len(paths) - NAMED:,} more" if len(paths) > NAMED else "")


def _listing(folder: Path, pattern: str) -> set[Path]:
    """Every file under `folder` (recursively) whose name matches `pattern`."""
    found: set[Path] = set()
    for directory, _, names in os.walk(folder):
        found.update(Path(directory) / n for n in names if fnmatch.fnmatch(n, pattern))
    return found


def _npy_header(path: Path) -> tuple[tuple[int, ...], np.dtype] | None:
    """(shape, dtype) from a .npy file's header, or None when it has none (the reader then names the file)."""
    try:
        with open(path, "rb") as handle:
            version = np.lib.format.read_magic(handle)
            read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
            shape, _, dtype = read(handle)
        return tuple(shape), np.dtype(dtype)
    except (OSError, ValueError, SyntaxError, TypeError):
        return None


def _npy_kind(path: Path) -> str | None:
    header = _npy_header(path)
    return None if header is None else header[1].kind


def _npy_dtype(path: Path) -> str:
    header = _npy_header(path)
    return "no header" if header is None else str(header[1])


def _block_rows(array: Any) -> int:
    row_bytes = int(np.prod(array.shape[1:], dtype=np.int64)) * np.dtype(array.dtype).itemsize
    return max(1, min(BLOCK_ROWS, BLOCK_BYTES // max(row_bytes, 1)))


def _nonfinite(block: np.ndarray) -> list[int]:
    """Offsets of the rows of `block` holding NaN or inf (float blocks only)."""
    if block.dtype.kind not in "fc" or np.isfinite(block.sum()):
        return []
    return [int(r) for r in np.flatnonzero(~np.isfinite(block).reshape(len(block), -1).all(axis=1))]


def _row_problem(array: Any, row: int, where: str) -> str | None:
    """What is wrong with one row: the reader's own line when it cannot read it, else NaN or inf."""
    try:
        values = np.asarray(array[row])
    except UserError as exc:
        return str(exc)
    if values.dtype.kind in "fc" and not np.isfinite(values).all():
        return f"{where}: holds NaN or inf"
    return None


def _kinds(kinds: str) -> str:
    names = {"f": "float", "u": "unsigned integer", "i": "integer", "b": "boolean"}
    return " or ".join(names.get(k, k) for k in kinds)


def _first_line(exc: BaseException) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__

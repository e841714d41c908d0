"""Reader of the AVE dataset (Tian et al., ECCV 2018) in its released on-disk format.

Folder layout (as in YapengTian/AVE-ECCV18 `data/`):
    Annotations.txt        `Category&VideoID&Quality&StartTime&EndTime`, one row per clip; the
                           dataset release starts with that header line, the repository copy has
                           none: both are accepted. Row i describes feature row i.
    audio_feature.h5       key `avadataset`, float [N, 10, 128]   (VGGish)
    visual_feature.h5      key `avadataset`, float [N, 10, 7, 7, 512] (VGG19 pool5); [N, 10, D]
                           is accepted and returned as [N, 10, 1, 1, D]
    labels.h5              key `avadataset`, float [N, 10, 29] one-hot per segment, background
                           last (optional: derived from Annotations.txt when absent)
    {train,val,test}_order.h5  key `order`, int indices into the rows

The event of a row covers the segments s with StartTime <= s < EndTime (the rows with
StartTime == EndTime, which the release has, carry no event: every segment is background).

The small file helpers at the bottom are shared with the AVVP and corpus readers.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, TypeVar

import numpy as np

from avtbench.api import Clips, UserError
from avtbench.synth.vocab import AVE_CLASSES

SEGMENTS = 10
SPLITS = ("train", "val", "test")
ANNOTATION_HEADER = "Category&VideoID&Quality&StartTime&EndTime"
FEATURE_KEY = "avadataset"
T = TypeVar("T")
_FIX = "use the file of the AVE release (github.com/YapengTian/AVE-ECCV18); in a synthetic world, delete the world folder to regenerate it"


@dataclass(frozen=True)
class AveAnnotation:
    category: str
    video_id: str
    quality: str
    start: int
    end: int

    @property
    def label(self) -> int:
        return AVE_CLASSES.index(self.category)


def read_ave(root: Path, split: str) -> Clips:
    """Clips of one split, with `labels["segment"]` float32 [N, 10, 29] and AVE_CLASSES as class names."""
    if split not in SPLITS:
        raise UserError(f"unknown AVE split {split!r}; use one of {', '.join(SPLITS)}")
    root = require_dir(Path(root), "AVE")
    annotations = read_ave_annotations(root / "Annotations.txt")
    n = len(annotations)
    order = _read_order(root / f"{split}_order.h5", n)
    count = (n, "Annotations.txt")
    audio = read_h5_rows(root / "audio_feature.h5", FEATURE_KEY, order, count, (SEGMENTS, None), _FIX)
    visual = read_h5_rows(
        root / "visual_feature.h5", FEATURE_KEY, order, count, (SEGMENTS, None, None, None), _FIX, alt_shape=(SEGMENTS, None)
    )
    if visual.ndim == 3:
        visual = visual[:, :, None, None, :]
    labels_path = root / "labels.h5"
    if labels_path.exists():
        labels = read_h5_rows(labels_path, FEATURE_KEY, order, count, (SEGMENTS, len(AVE_CLASSES) + 1), _FIX)
    else:
        labels = ave_labels_from_annotations([annotations[i] for i in order])
    return Clips(
        ids=[annotations[i].video_id for i in order],
        audio=audio,
        visual=visual,
        labels={"segment": labels.astype(np.float32)},
        class_names=list(AVE_CLASSES),
    )


def read_ave_annotations(path: Path) -> list[AveAnnotation]:
    """Rows of an AVE `Annotations.txt` (header line optional)."""
    lines = read_text(Path(path), _FIX).splitlines()
    if lines and lines[0].strip() == ANNOTATION_HEADER:
        lines[0] = ""
    rows = [_parse_annotation(path, number, line) for number, line in enumerate(lines, 1) if line.strip()]
    if not rows:
        raise UserError(f"{path}: no annotation rows; {_FIX}")
    return rows


def ave_labels_from_annotations(annotations: list[AveAnnotation], segments: int = SEGMENTS) -> np.ndarray:
    """One-hot segment labels float32 [N, segments, 29]: the class inside [start, end), background elsewhere."""
    labels = np.zeros((len(annotations), segments, len(AVE_CLASSES) + 1), dtype=np.float32)
    labels[:, :, -1] = 1.0
    for row, a in enumerate(annotations):
        labels[row, a.start : a.end, -1] = 0.0
        labels[row, a.start : a.end, a.label] = 1.0
    return labels


def _parse_annotation(path: Path, number: int, line: str) -> AveAnnotation:
    fields = line.rstrip("\r\n").split("&")
    where = f"{path}:{number}"
    if len(fields) != 5:
        raise UserError(f"{where}: expected 5 '&'-separated fields ({ANNOTATION_HEADER}), got {len(fields)}; fix the line")
    category, video_id, quality, start, end = (f.strip() for f in fields)
    if category not in AVE_CLASSES:
        raise UserError(f"{where}: unknown AVE category {category!r}; use one of the 28 AVE categories")
    try:
        start_s, end_s = int(start), int(end)
    except ValueError:
        raise UserError(f"{where}: StartTime/EndTime must be whole seconds, got {start!r}/{end!r}; fix the line") from None
    if not 0 <= start_s <= end_s <= SEGMENTS:
        raise UserError(f"{where}: need 0 <= StartTime <= EndTime <= {SEGMENTS}, got {start_s}/{end_s}; fix the line")
    return AveAnnotation(category, video_id, quality, start_s, end_s)


def _read_order(path: Path, n_rows: int) -> np.ndarray:
    order = read_h5(path, "order", _FIX)
    if order.ndim != 1 or not np.issubdtype(order.dtype, np.integer):
        raise UserError(f"{path}: 'order' must be a 1-d integer array, got {order.dtype} {order.shape}; {_FIX}")
    if order.size and (order.min() < 0 or order.max() >= n_rows):
        raise UserError(f"{path}: indices must lie in [0, {n_rows}) (rows of Annotations.txt); {_FIX}")
    return order.astype(np.int64)


# ---- file helpers shared by the dataset readers ------------------------------------------


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
    return check_finite(path, np.asarray(data, dtype=np.float32), fix)


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


def check_finite(path: Path, array: np.ndarray, fix: str) -> np.ndarray:
    if not np.isfinite(array).all():
        raise UserError(f"{path}: features contain NaN or inf; {fix}")
    return array


def _shape_text(shape: tuple[int | None, ...]) -> str:
    return ", ".join("*" if s is None else str(s) for s in shape)


def _take_rows(ds: Any, rows: np.ndarray) -> np.ndarray:
    """ds[rows] for any row order: h5py wants increasing unique indices, so read those and re-expand."""
    if rows.size == 0:
        return np.empty((0, *ds.shape[1:]), dtype=ds.dtype)
    unique, inverse = np.unique(rows, return_inverse=True)
    if len(unique) > ds.shape[0] // 2:  # most rows wanted: one sequential read is faster
        return ds[()][rows]
    return ds[unique][inverse]

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
    captions.tsv           optional, not in the release (the synthetic world writes it): see
                           avtbench/data/captions.py; rows of a video id serve every row of that id
    raw/                   the raw level, not in the release (extract it from the videos): see
                           avtbench/data/raw.py; files are named by VideoID
    ave_avvp_order.h5      optional, CMG's AVE->AVVP training rows (key `order`; CMG's
                           data/AVE_AVVP/): the split `ave_avvp`, read only when asked for; CMG lists
                           every row of a class shared with AVVP, train, val and test alike (1831
                           rows in the release: 1475 train, 178 val, 178 test)
    ave_avvp_labels.h5     optional, beside it: key `avadataset`, float [N, 10, 13], one-hot per
                           segment over the 12 shared classes in CMG's order (AVE_AVVP_SHARED, AVVP
                           names) and background last; returned as `labels["ave_avvp"]`

The event of a row covers the segments s with StartTime <= s < EndTime (the rows with
StartTime == EndTime, which the release has, carry no event: every segment is background).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from avtbench.api import LEVELS, Clips, UserError
from avtbench.data.captions import CAPTIONS_FILE, read_captions
from avtbench.data.files import FEATURE_KEY, h5_rows, read_h5, read_h5_rows, read_text, require_dir
from avtbench.data.rows import RowArray
from avtbench.data.raw import read_raw
from .vocab import AVE_AVVP_SHARED, AVE_CLASSES

SEGMENTS = 10
RELEASE_SPLITS = ("train", "val", "test")
CMG_SPLITS = {"ave_avvp": "ave_avvp_labels.h5"}
"""CMG's own row lists: split -> its labels file; the rows are `<split>_order.h5`, as for the release splits."""
SPLITS = (*RELEASE_SPLITS, *CMG_SPLITS)
AVE_AVVP_COLUMNS = len(AVE_AVVP_SHARED) + 1
ANNOTATION_HEADER = "Category&VideoID&Quality&StartTime&EndTime"
_SYNTH_FIX = "in a synthetic world, delete the world folder to regenerate it"
_FIX = f"use the file of the AVE release (github.com/YapengTian/AVE-ECCV18); {_SYNTH_FIX}"
_CMG_FIX = (f"protocol=cmg reads CMG's own files: copy data/AVE_AVVP/ave_avvp_order.h5 and ave_avvp_labels.h5 of "
            f"github.com/haihuangcode/CMG into the AVE folder, beside Annotations.txt, or use the clean protocol; {_SYNTH_FIX}")


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


def read_ave(root: Path, split: str, level: str = "features") -> Clips:
    """Clips of one split at `level` ("features" or "raw"; see `Clips`), with `labels["segment"]`
    float32 [N, 10, 29] and AVE_CLASSES as class names; for `ave_avvp` also `labels["ave_avvp"]`;
    at the raw level also `labels["masks"]` when raw/masks/ exists; `text` and `captions` when
    captions.tsv exists."""
    if split not in SPLITS:
        raise UserError(f"unknown AVE split {split!r}; use one of {', '.join(SPLITS)}")
    if level not in LEVELS:
        raise UserError(f"unknown input level {level!r}; use one of {', '.join(LEVELS)}")
    root = require_dir(Path(root), "AVE")
    n_rows, order, ids, labels = _select(root, split)
    count = (n_rows, "Annotations.txt")
    clips = Clips(ids=ids, labels=labels, class_names=list(AVE_CLASSES))
    if level == "raw":
        raw = read_raw(root, ids, "AVE", SEGMENTS)
        clips.audio, clips.visual = raw.audio, raw.visual
        if raw.masks is not None:
            clips.labels["masks"] = raw.masks
    else:
        clips.audio, clips.visual = _read_features(root, order, count)
    if (root / CAPTIONS_FILE).exists():
        clips.captions = read_captions(root / CAPTIONS_FILE, ids, _FIX)
        clips.text = [c[0] for c in clips.captions]
    return clips


def read_ave_rows(root: Path, split: str) -> tuple[np.ndarray, list[str], dict[str, np.ndarray]]:
    """(rows of Annotations.txt, their VideoIDs, their labels) of one split, without any feature: what
    `read_ave` selects. `labels["segment"]` [N, 10, 29] from labels.h5 (or Annotations.txt); for a CMG
    split also its own labels file (`labels["ave_avvp"]` [N, 10, 13])."""
    return _select(Path(root), split)[1:]


def _select(root: Path, split: str) -> tuple[int, np.ndarray, list[str], dict[str, np.ndarray]]:
    if split not in SPLITS:
        raise UserError(f"unknown AVE split {split!r}; use one of {', '.join(SPLITS)}")
    annotations = read_ave_annotations(root / "Annotations.txt")
    n = len(annotations)
    count = (n, "Annotations.txt")
    fix = _CMG_FIX if split in CMG_SPLITS else _FIX
    order = _read_order(root / f"{split}_order.h5", n, fix)
    labels_path = root / "labels.h5"
    if labels_path.exists():
        segment = read_h5_rows(labels_path, FEATURE_KEY, order, count, (SEGMENTS, len(AVE_CLASSES) + 1), _FIX)
    else:
        segment = ave_labels_from_annotations([annotations[i] for i in order])
    labels = {"segment": segment.astype(np.float32)}
    if split in CMG_SPLITS:
        labels[split] = read_h5_rows(root / CMG_SPLITS[split], FEATURE_KEY, order, count, (SEGMENTS, AVE_AVVP_COLUMNS), _CMG_FIX)
    return n, order, [annotations[i].video_id for i in order], labels


def ave_avvp_rows(annotations: list[AveAnnotation]) -> np.ndarray:
    """The rows CMG's `ave_avvp_order.h5` lists: every row whose category is one of the 12 shared classes, in file order."""
    shared = {a for a, _ in AVE_AVVP_SHARED}
    return np.array([i for i, a in enumerate(annotations) if a.category in shared], dtype=np.int64)


def ave_avvp_labels(annotations: list[AveAnnotation], segments: int = SEGMENTS) -> np.ndarray:
    """float32 [N, segments, 13] as CMG's `ave_avvp_labels.h5` holds them for every row of Annotations.txt: the
    shared class (AVE_AVVP_SHARED order) inside [start, end), background outside; a row of another class has
    no class column and background outside its event (inside it the row is all zero), as in CMG's file."""
    column = {a: k for k, (a, _) in enumerate(AVE_AVVP_SHARED)}
    labels = np.zeros((len(annotations), segments, AVE_AVVP_COLUMNS), dtype=np.float32)
    labels[:, :, -1] = 1.0
    for row, a in enumerate(annotations):
        labels[row, a.start : a.end, -1] = 0.0
        if a.category in column:
            labels[row, a.start : a.end, column[a.category]] = 1.0
    return labels


def _read_features(root: Path, order: np.ndarray, count: tuple[int, str]) -> tuple[RowArray, RowArray]:
    """Lazy audio [N, 10, D] and visual [N, 10, H, W, C] of the rows `order` (read, and checked for NaN, when indexed)."""
    audio = h5_rows(root / "audio_feature.h5", FEATURE_KEY, count, (SEGMENTS, None), _FIX, rows=order)
    visual = h5_rows(root / "visual_feature.h5", FEATURE_KEY, count, (SEGMENTS, None, None, None), _FIX,
                     alt_shape=(SEGMENTS, None), rows=order)
    return audio, visual


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


def _read_order(path: Path, n_rows: int, fix: str = _FIX) -> np.ndarray:
    order = read_h5(path, "order", fix)
    if order.ndim != 1 or not np.issubdtype(order.dtype, np.integer):
        raise UserError(f"{path}: 'order' must be a 1-d integer array, got {order.dtype} {order.shape}; {fix}")
    if order.size and (order.min() < 0 or order.max() >= n_rows):
        raise UserError(f"{path}: indices must lie in [0, {n_rows}) (rows of Annotations.txt); {fix}")
    return order.astype(np.int64)

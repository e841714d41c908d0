"""Reader of the AVVP (LLP) dataset (Tian et al., ECCV 2020) in its released on-disk format.

Folder layout (as in YapengTian/AVVP-ECCV20 `data/` plus its feature folders):
    AVVP_train.csv, AVVP_val_pd.csv, AVVP_test_pd.csv
        tab-separated `filename<TAB>event_labels`, labels comma-separated (weak, video-level)
    AVVP_eval_audio.csv, AVVP_eval_visual.csv
        tab-separated `filename<TAB>onset<TAB>offset<TAB>event_labels`, one event per row, for
        the val and test videos
    feats/vggish/<id>.npy           float [10, 128]
    feats/<visual_features>/<id>.npy  [10, H, W, C]; or [10, D], or [80, D] (res152 at 8 fps,
                                    averaged per second), both returned as [10, 1, 1, D]
    captions.tsv                    optional, not in the release (the synthetic world writes it):
                                    see avtbench/data/captions.py; ids are filenames (or 11-char ids)
    raw/                            the raw level, not in the release (extract it from the videos):
                                    see avtbench/data/raw.py
    AVVP_eval_{audio,visual}_checked_combined.csv, AVE_AVVP_eval_{audio,visual}_checked_combined.csv
        optional, CMG's own lists (its data/AVVP/ and data/AVE_AVVP/ folders), read only by the splits
        `cmg_eval_{audio,visual}` and `cmg_ave_avvp_{audio,visual}`: tab-separated
        `filename<TAB>onsets<TAB>offsets<TAB>event_labels`, one row per video, the three lists
        comma-separated and of equal length (one entry per event of that modality; the AVE_AVVP
        lists keep only the 12 classes shared with AVE). They hold only the val and test videos with
        at least one event in that modality (AVVP_eval_audio: 1846 rows, visual: 1661; AVE_AVVP:
        1085 and 1032), with CMG's label corrections ("checked").
Filenames look like `<11-char YouTube id>_<start>_<end>`; the official loader names feature
files by the 11-char id, which is what is looked up (`<filename>.npy` is accepted too); raw files
likewise (`raw/audio/<id>.wav`, or `raw/audio/<filename>.wav`).

Segment s of an event row is active when onset <= s < offset, as the official evaluation
fills `GT[class, onset:offset] = 1` (main_avvp.py). Rows with onset >= offset therefore mark
nothing; the release has such rows (five with onset == offset, one with 9 > 0 in the audio file)
and they are accepted, as the official code accepts them.

A CMG split is exactly what CMG's `AVVPDataset` reads: every row of the list is one clip, in file
order, its labels only that row's events (label[onset:offset, class] = 1, background where no event
is). Nothing is merged or dropped: the audio list has two videos on two rows each (JR09cQfpjqE_30_40,
3sZMw6BdA1Y_30_40: two clips each, each with its own row's events), a filename with a stray
backtick (KvIjsmANkxI_10_20`, its features are found by the 11-character id, as CMG finds them) and
five events with onset >= offset (marking nothing).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from avtbench.api import LEVELS, Clips, UserError
from avtbench.data.captions import CAPTIONS_FILE, read_captions
from avtbench.data.files import check_finite, read_text, require_dir, require_file
from avtbench.data.rows import PerClipRows, RowArray
from avtbench.data.raw import read_raw
from .vocab import AVVP_CLASSES

SEGMENTS = 10
RELEASE_SPLIT_FILES = {"train": "AVVP_train.csv", "val": "AVVP_val_pd.csv", "test": "AVVP_test_pd.csv"}
CMG_LISTS = {
    "cmg_eval_audio": ("AVVP_eval_audio_checked_combined.csv", "audio"),
    "cmg_eval_visual": ("AVVP_eval_visual_checked_combined.csv", "visual"),
    "cmg_ave_avvp_audio": ("AVE_AVVP_eval_audio_checked_combined.csv", "audio"),
    "cmg_ave_avvp_visual": ("AVE_AVVP_eval_visual_checked_combined.csv", "visual"),
}
"""CMG's splits: split -> (its list file, the modality whose events it lists)."""
SPLIT_FILES = {**RELEASE_SPLIT_FILES, **{split: file for split, (file, _) in CMG_LISTS.items()}}
"""Every split and the file that lists its videos."""
EVAL_FILES = {"audio": "AVVP_eval_audio.csv", "visual": "AVVP_eval_visual.csv"}
WEAK_HEADER = ["filename", "event_labels"]
EVAL_HEADER = ["filename", "onset", "offset", "event_labels"]
FRAMES_PER_SECOND = 8
_SYNTH_FIX = "in a synthetic world, delete the world folder to regenerate it"
_FIX = f"use the file of the AVVP release (github.com/YapengTian/AVVP-ECCV20); {_SYNTH_FIX}"
_CMG_FIX = ("protocol=cmg reads CMG's own lists: copy data/AVVP/AVVP_eval_*_checked_combined.csv and "
            "data/AVE_AVVP/AVE_AVVP_eval_*_checked_combined.csv of github.com/haihuangcode/CMG into the AVVP folder, "
            f"beside the release CSVs, or use a clean protocol; {_SYNTH_FIX}")


@dataclass(frozen=True)
class AvvpEvent:
    filename: str
    onset: int
    offset: int
    label: str


def read_avvp(root: Path, split: str, visual_features: str = "vgg19", level: str = "features") -> Clips:
    """Clips of one split at `level` ("features" or "raw"; see `Clips`): `labels["video"]` [N, 25];
    for val/test also `labels["audio"/"visual"]` uint8 [N, 25, 10]; for a CMG split (`CMG_LISTS`)
    the labels of its list's modality only; at the raw level also `labels["masks"]` when raw/masks/
    exists; `text` and `captions` when captions.tsv exists.
    `visual_features` (the folder under feats/) matters at the features level only."""
    if split not in SPLIT_FILES:
        raise UserError(f"unknown AVVP split {split!r}; use one of {', '.join(SPLIT_FILES)}")
    if level not in LEVELS:
        raise UserError(f"unknown input level {level!r}; use one of {', '.join(LEVELS)}")
    if not visual_features or "/" in visual_features or visual_features.startswith("."):
        raise UserError(f"bad AVVP visual feature folder {visual_features!r}; name a folder under feats/, e.g. vgg19 or res152")
    root = require_dir(Path(root), "AVVP")
    check_headers(root)
    names, labels = read_avvp_rows(root, split)
    clips = Clips(ids=names, labels=labels, class_names=list(AVVP_CLASSES))
    if level == "raw":
        raw = read_raw(root, names, "AVVP", SEGMENTS, file_names=_short_first)
        clips.audio, clips.visual = raw.audio, raw.visual
        if raw.masks is not None:
            clips.labels["masks"] = raw.masks
    else:
        clips.audio = _load_features(root / "feats" / "vggish", names, _audio_array)
        clips.visual = _load_features(root / "feats" / visual_features, names, _visual_array)
    if (root / CAPTIONS_FILE).exists():
        clips.captions = read_captions(root / CAPTIONS_FILE, names, _FIX, aliases=lambda name: [name[:11]])
        clips.text = [c[0] for c in clips.captions]
    return clips


def read_avvp_rows(root: Path, split: str) -> tuple[list[str], dict[str, np.ndarray]]:
    """(filenames, labels) of one split, without any feature: what `read_avvp` selects."""
    if split not in SPLIT_FILES:
        raise UserError(f"unknown AVVP split {split!r}; use one of {', '.join(SPLIT_FILES)}")
    root = Path(root)
    if split in CMG_LISTS:
        file, modality = CMG_LISTS[split]
        rows = read_combined_csv(root / file)
        events = np.stack([_row_events(on, off, labels) for _, on, off, labels in rows]) if rows else \
            np.zeros((0, len(AVVP_CLASSES), SEGMENTS), dtype=np.uint8)
        return [row[0] for row in rows], {"video": events.any(axis=2).astype(np.float32), modality: events}
    rows = read_avvp_csv(root / SPLIT_FILES[split])
    names = [name for name, _ in rows]
    labels = {"video": avvp_video_labels(rows)}
    if split != "train":
        for modality, file in EVAL_FILES.items():
            labels[modality] = avvp_segment_labels(names, read_avvp_eval_csv(root / file))
    return names, labels


def read_combined_csv(path: Path) -> list[tuple[str, list[int], list[int], list[str]]]:
    """(filename, onsets, offsets, labels) rows of one of CMG's `*_checked_combined.csv` lists, in file order."""
    path = Path(path)
    require_file(path, _CMG_FIX)
    rows = []
    for number, (name, onsets, offsets, labels) in _table(path, EVAL_HEADER, _CMG_FIX):
        ons, offs, classes = onsets.split(","), offsets.split(","), labels.split(",")
        if not len(ons) == len(offs) == len(classes):
            raise UserError(f"{path}:{number}: {len(ons)} onsets, {len(offs)} offsets and {len(classes)} labels; "
                            "give one of each per event, comma-separated")
        on = [_whole_second(path, number, v) for v in ons]
        off = [_whole_second(path, number, v) for v in offs]
        if not all(0 <= v <= SEGMENTS for v in on + off):
            raise UserError(f"{path}:{number}: onsets and offsets must lie in [0, {SEGMENTS}] seconds; fix the row")
        rows.append((name, on, off, [_check_label(path, number, c.strip()) for c in classes]))
    return rows


def _row_events(onsets: list[int], offsets: list[int], labels: list[str]) -> np.ndarray:
    """uint8 [25, 10] of one list row: each event marks [onset, offset) of its class (nothing when onset >= offset)."""
    events = np.zeros((len(AVVP_CLASSES), SEGMENTS), dtype=np.uint8)
    for on, off, label in zip(onsets, offsets, labels):
        events[AVVP_CLASSES.index(label), on:off] = 1
    return events


def check_headers(root: Path) -> None:
    """Every CSV of the release has its columns, whichever split or protocol is read: a damaged
    file is reported when the dataset is opened, not when some protocol happens to read it."""
    for name, header in [*((f, WEAK_HEADER) for f in RELEASE_SPLIT_FILES.values()), *((f, EVAL_HEADER) for f in EVAL_FILES.values())]:
        path = Path(root) / name
        require_file(path, _FIX)
        try:
            with open(path, encoding="utf-8-sig") as fh:
                first = fh.readline().rstrip("\r\n").split("\t")
        except (OSError, UnicodeDecodeError) as exc:
            raise UserError(f"{path}: unreadable text file ({type(exc).__name__}); {_FIX}") from None
        missing = [column for column in header if column not in first]
        if missing or first != header:
            what = f"lacks the column {missing[0]!r}" if missing else f"has the columns {' '.join(first)}"
            raise UserError(f"{path}: {what}; the first line must be the tab-separated header {' '.join(header)}; {_FIX}")


def _short_first(name: str) -> list[str]:
    """File stems to try for a filename: the 11-char id, as the official loader names files, then the filename."""
    return [name[:11], name] if len(name) > 11 else [name]


def read_avvp_csv(path: Path) -> list[tuple[str, list[str]]]:
    """(filename, labels) rows of a weak-label CSV."""
    result = []
    for number, fields in _table(Path(path), WEAK_HEADER):
        labels = [_check_label(path, number, label) for label in fields[1].split(",")]
        result.append((fields[0], labels))
    names = [name for name, _ in result]
    if len(set(names)) != len(names):
        raise UserError(f"{path}: a filename appears on more than one row; keep one row per video")
    return result


def read_avvp_eval_csv(path: Path) -> list[AvvpEvent]:
    """Event rows of an `AVVP_eval_{audio,visual}.csv`."""
    events = []
    for number, (name, onset, offset, label) in _table(Path(path), EVAL_HEADER):
        on, off = _whole_second(path, number, onset), _whole_second(path, number, offset)
        if not (0 <= on <= SEGMENTS and 0 <= off <= SEGMENTS):
            raise UserError(f"{path}:{number}: onset and offset must lie in [0, {SEGMENTS}] seconds, got {on}/{off}; fix the row")
        events.append(AvvpEvent(name, on, off, _check_label(path, number, label)))
    return events


def avvp_video_labels(rows: list[tuple[str, list[str]]]) -> np.ndarray:
    labels = np.zeros((len(rows), len(AVVP_CLASSES)), dtype=np.float32)
    for i, (_, names) in enumerate(rows):
        labels[i, [AVVP_CLASSES.index(n) for n in names]] = 1.0
    return labels


def avvp_segment_labels(filenames: list[str], events: list[AvvpEvent]) -> np.ndarray:
    """uint8 [N, 25, 10] from event rows; rows of videos not in `filenames` are ignored."""
    row_of = {name: i for i, name in enumerate(filenames)}
    labels = np.zeros((len(filenames), len(AVVP_CLASSES), SEGMENTS), dtype=np.uint8)
    for e in events:
        if e.filename in row_of:
            labels[row_of[e.filename], AVVP_CLASSES.index(e.label), e.onset : e.offset] = 1
    return labels


def _table(path: Path, header: list[str], fix: str = _FIX) -> list[tuple[int, list[str]]]:
    lines = read_text(path, fix).splitlines()
    if not lines or lines[0].rstrip("\r").split("\t") != header:
        raise UserError(f"{path}: first line must be the tab-separated header {' '.join(header)}; {fix}")
    rows = []
    for number, line in enumerate(lines[1:], 2):
        if not line.strip():
            continue
        fields = [f.strip() for f in line.rstrip("\r").split("\t")]
        if len(fields) != len(header) or not fields[0]:
            raise UserError(f"{path}:{number}: expected {len(header)} tab-separated fields, got {len(fields)}; fix the row")
        rows.append((number, fields))
    return rows


def _check_label(path: Path, number: int, label: str) -> str:
    if label not in AVVP_CLASSES:
        raise UserError(f"{path}:{number}: unknown AVVP class {label!r}; use the 25 AVVP class names (e.g. Baby_cry_infant_cry)")
    return label


def _whole_second(path: Path, number: int, text: str) -> int:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value.is_integer():
        raise UserError(f"{path}:{number}: onset/offset must be whole seconds, got {text!r}; fix the row")
    return int(value)


def _load_features(folder: Path, names: list[str], convert) -> RowArray:
    """Lazy [N, ...] features, one .npy per video: every file is found now and the first one read for
    the shape; a video's file is read, converted and checked (shape, NaN) when its row is."""
    fix = f"extract one .npy of [10, ...] features per video into {folder}; {_SYNTH_FIX}"
    require_dir(folder, "AVVP feature")
    if not names:
        raise UserError(f"{folder}: the split has no videos; {_FIX}")
    paths = [_feature_path(folder, name, fix) for name in names]
    first = convert(paths[0], _load_npy(paths[0], fix), fix)
    return PerClipRows(_Features(paths, convert, first.shape, fix), len(paths), first.shape, np.float32)


@dataclass(frozen=True)
class _Features:
    """Row i: the converted features of paths[i], checked to have `shape` and no NaN."""

    paths: list[Path]
    convert: Callable[[Path, np.ndarray, str], np.ndarray]
    shape: tuple[int, ...]
    fix: str

    def __call__(self, row: int) -> np.ndarray:
        path = self.paths[row]
        array = check_finite(path, self.convert(path, _load_npy(path, self.fix), self.fix), self.fix)
        if array.shape != self.shape:
            raise UserError(f"{path}: shape {array.shape} differs from {self.shape} of the other videos; {self.fix}")
        return array


def _feature_path(folder: Path, name: str, fix: str) -> Path:
    for candidate in (folder / f"{name[:11]}.npy", folder / f"{name}.npy"):
        if candidate.is_file():
            return candidate
    raise UserError(f"{folder / (name[:11] + '.npy')}: file not found (nor {name}.npy); {fix}")


def _load_npy(path: Path, fix: str) -> np.ndarray:
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as exc:
        raise UserError(f"{path}: corrupt or truncated .npy file ({type(exc).__name__}); {fix}") from None


def _audio_array(path: Path, array: np.ndarray, fix: str) -> np.ndarray:
    if array.ndim != 2 or array.shape[0] != SEGMENTS:
        raise UserError(f"{path}: audio features have shape {array.shape}, expected [{SEGMENTS}, D]; {fix}")
    return array.astype(np.float32)


def _visual_array(path: Path, array: np.ndarray, fix: str) -> np.ndarray:
    if array.ndim == 4 and array.shape[0] == SEGMENTS:
        return array.astype(np.float32)
    if array.ndim == 2 and array.shape[0] == SEGMENTS * FRAMES_PER_SECOND:
        array = array.reshape(SEGMENTS, FRAMES_PER_SECOND, -1).mean(axis=1)
    if array.ndim == 2 and array.shape[0] == SEGMENTS:
        return array[:, None, None, :].astype(np.float32)
    raise UserError(
        f"{path}: visual features have shape {array.shape}, expected [{SEGMENTS}, H, W, C], [{SEGMENTS}, D] "
        f"or [{SEGMENTS * FRAMES_PER_SECOND}, D]; {fix}"
    )

"""Reader of AVSBench S4 (AVSBench-object, single source; Zhou et al., ECCV 2022) in its release layout.

Folder layout (the release's `Single-source/`, as OpenNLPLab/AVSBench `avs_scripts/avs_s4/dataloader.py`
reads it):
    s4_meta_data.csv       header row, then one row per clip: column 0 the video name, column 1 its
                           start time, and the columns named `category` and `split` (train/val/test)
    s4_data/visual_frames/{split}/{category}/{name}/{name}_{1..5}.png   RGB frames, one per second,
                           all of one size (224 x 224 in the release)
    s4_data/gt_masks/{split}/{category}/{name}/{name}_{k}.png           binary masks of the sounding
                           object, of the frames' size: train has k = 1 only (S4's weak supervision),
                           val and test k = 1..5. Pixels >= 128 are the object (0/1 masks: pixels > 0)
    s4_data/audio_wav/{split}/{category}/{name}.wav    mono 16 kHz (the raw level); 4.5 to 5.5 s
                           are cut or zero-padded to 5 s, other lengths are an error
    s4_data/audio_vggish/{split}/{category}/{name}.npy float [5, D] per-second audio features (the
                           feature level; not in the release: extract VGGish per second, as CMG's
                           feature/audio pickles hold them; the synthetic world writes them)
    AVSBenchCategories2Prompts.csv    optional, `label,prompt`: each category's caption (CMG ships
                           this file apart from its repository); without it, CMG's prompts are used
Clips: `audio` features [N, 5, D] or waveforms [N, 80000] by level; `visual` the frames at the raw
level (None at the feature level: no method encodes them here); `text` each clip's category prompt;
labels "frames" uint8 [N, 5, H, W, 3], "masks" uint8 [N, 5, H, W] 0/1, "annotated" bool [N, 5]
(which masks exist) and "category" int64 [N] into `CATEGORIES`. Every bad file is a one-line UserError.
The arrays of the files (audio, frames, masks) are lazy `RowArray`s: a clip's files are read, and
checked, when its row is; only every file's presence and the first clip's frame size (and feature
dimension) are checked up front, so memory does not grow with the split.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from avtbench.api import LEVELS, Clips, UserError
from avtbench.data.files import read_text, require_dir, require_file
from avtbench.data.raw import read_wave
from avtbench.data.rows import PerClipRows, RowArray

from .vocab import CATEGORIES, CMG_PROMPTS

SPLITS = ("train", "val", "test")
FRAMES = 5
SAMPLE_RATE = 16000
META = "s4_meta_data.csv"
PROMPTS = "AVSBenchCategories2Prompts.csv"
FEATURES = "audio_vggish"
FIX = ("use the AVSBench S4 release layout (github.com/OpenNLPLab/AVSBench, avsbench_data/Single-source); "
       "in a synthetic world, delete the world folder to regenerate it")


@dataclass(frozen=True)
class S4Row:
    name: str
    category: str
    split: str

    def path(self, root: Path, kind: str, suffix: str) -> Path:
        """s4_data/<kind>/<split>/<category>/<name><suffix>: a clip's wav or features."""
        return root / "s4_data" / kind / self.split / self.category / f"{self.name}{suffix}"

    def frame(self, root: Path, kind: str, k: int) -> Path:
        """s4_data/<kind>/<split>/<category>/<name>/<name>_<k>.png: a clip's k-th frame or mask (k from 1)."""
        return root / "s4_data" / kind / self.split / self.category / self.name / f"{self.name}_{k}.png"


def read_s4(root: Path, split: str, level: str = "features") -> Clips:
    """The clips of one split at `level` (see the module docstring)."""
    if split not in SPLITS:
        raise UserError(f"unknown AVSBench S4 split {split!r}; use one of {', '.join(SPLITS)}")
    if level not in LEVELS:
        raise UserError(f"unknown input level {level!r}; use one of {', '.join(LEVELS)}")
    root = require_dir(Path(root), "AVSBench S4")
    rows = [r for r in read_meta(root / META) if r.split == split]
    if not rows:
        raise UserError(f"{root / META}: no clip of split {split!r}; {FIX}")
    prompts = read_prompts(root / PROMPTS) if (root / PROMPTS).exists() else dict(CMG_PROMPTS)
    frames = _frames(root, rows)
    masks = _masks(root, rows, frames.shape[2:4])
    annotated = np.arange(FRAMES)[None, :] < np.array([_annotated(r) for r in rows])[:, None]
    audio = _features(root, rows) if level == "features" else _waves(root, rows)
    text = [prompts[r.category] for r in rows]
    labels = {"frames": frames, "masks": masks, "annotated": annotated,
              "category": np.array([CATEGORIES.index(r.category) for r in rows], dtype=np.int64)}
    return Clips(ids=[r.name for r in rows], audio=audio, visual=frames if level == "raw" else None, text=text,
                 captions=[[t] for t in text], labels=labels, class_names=list(CATEGORIES))


def read_meta(path: Path) -> list[S4Row]:
    """Every row of `s4_meta_data.csv`, checked: known category and split, no video twice in a split."""
    lines = list(csv.reader(io.StringIO(read_text(path, FIX))))
    header = [h.strip() for h in lines[0]] if lines else []
    if "category" not in header or "split" not in header or min(header.index("category"), header.index("split")) < 2:
        raise UserError(f"{path}: the header must name columns 'category' and 'split' after the video name and "
                        f"start time, got {','.join(header) or 'an empty file'}; {FIX}")
    at_category, at_split = header.index("category"), header.index("split")
    rows, seen = [], set()
    for number, fields in enumerate(lines[1:], 2):
        if not any(f.strip() for f in fields):
            continue
        where = f"{path}:{number}"
        if len(fields) != len(header):
            raise UserError(f"{where}: {len(fields)} fields, the header has {len(header)}; fix the line")
        name, category, split = fields[0].strip(), fields[at_category].strip(), fields[at_split].strip()
        if category not in CATEGORIES:
            raise UserError(f"{where}: unknown S4 category {category!r}; use one of the 23 AVSBench S4 categories")
        if split not in SPLITS:
            raise UserError(f"{where}: unknown split {split!r}; use one of {', '.join(SPLITS)}")
        if not name or (name, split) in seen:
            raise UserError(f"{where}: video name {name!r} is empty or listed twice in split {split}; fix the line")
        seen.add((name, split))
        rows.append(S4Row(name, category, split))
    return rows


def read_prompts(path: Path) -> dict[str, str]:
    """`label,prompt` rows: one prompt for each of the 23 categories."""
    lines = [f for f in csv.reader(io.StringIO(read_text(path, FIX))) if any(x.strip() for x in f)]
    if not lines or [h.strip() for h in lines[0][:2]] != ["label", "prompt"]:
        raise UserError(f"{path}: the header must be 'label,prompt'; use CMG's AVSBenchCategories2Prompts.csv")
    prompts = {}
    for number, fields in enumerate(lines[1:], 2):
        if len(fields) != 2 or fields[0].strip() not in CATEGORIES or not fields[1].strip():
            raise UserError(f"{path}:{number}: expected '<S4 category>,<prompt>', got {','.join(fields)!r}; fix the line")
        prompts[fields[0].strip()] = fields[1].strip()
    missing = [c for c in CATEGORIES if c not in prompts]
    if missing:
        raise UserError(f"{path}: no prompt for category {missing[0]!r} ({len(missing)} missing); add its row")
    return prompts


def _frames(root: Path, rows: list[S4Row]) -> RowArray:
    """Lazy uint8 [N, 5, H, W, 3]: every frame must exist now; the first one is read for H and W."""
    for row in rows:
        for k in range(1, FRAMES + 1):
            require_file(row.frame(root, "visual_frames", k), FIX)
    first = _read_png(rows[0].frame(root, "visual_frames", 1), "RGB")
    return PerClipRows(_Frames(root, rows, first.shape[:2]), len(rows), (FRAMES, *first.shape), np.uint8)


def _masks(root: Path, rows: list[S4Row], size: tuple[int, ...]) -> RowArray:
    """Lazy uint8 0/1 [N, 5, H, W] (the frames not annotated are 0): every annotated mask must exist now."""
    if not (root / "s4_data" / "gt_masks").is_dir():
        raise UserError(f"{root / 's4_data' / 'gt_masks'}: no ground-truth masks (clips extracted from videos have "
                        "none: videos carry no masks); copy the release's s4_data/gt_masks/ folder there, or extract "
                        "with avtbench extract --layout avs_s4 --annotations <a Single-source/ folder that holds it>")
    for row in rows:
        for k in range(1, _annotated(row) + 1):
            require_file(row.frame(root, "gt_masks", k), FIX)
    return PerClipRows(_Masks(root, rows, tuple(size)), len(rows), (FRAMES, *size), np.uint8)


def _annotated(row: S4Row) -> int:
    """How many of a clip's frames have a mask: the first only in train (S4's weak supervision), else all."""
    return 1 if row.split == "train" else FRAMES


@dataclass(frozen=True)
class _Frames:
    """Row i: the 5 RGB frames of rows[i], each checked to be of `size` (H, W)."""

    root: Path
    rows: list[S4Row]
    size: tuple[int, ...]

    def __call__(self, i: int) -> np.ndarray:
        out = np.empty((FRAMES, *self.size, 3), dtype=np.uint8)
        for t in range(FRAMES):
            path = self.rows[i].frame(self.root, "visual_frames", t + 1)
            image = _read_png(path, "RGB")
            _check_size(path, image, self.size)
            out[t] = image
        return out


@dataclass(frozen=True)
class _Masks:
    """Row i: the 0/1 masks of rows[i] (pixels >= 128, or > 0 in a 0/1 mask), 0 where not annotated."""

    root: Path
    rows: list[S4Row]
    size: tuple[int, ...]

    def __call__(self, i: int) -> np.ndarray:
        masks = np.zeros((FRAMES, *self.size), dtype=np.uint8)
        for t in range(_annotated(self.rows[i])):
            path = self.rows[i].frame(self.root, "gt_masks", t + 1)
            grey = _read_png(path, "L")
            _check_size(path, grey, self.size)
            masks[t] = grey > 0 if grey.max() <= 1 else grey >= 128
        return masks


def _check_size(path: Path, image: np.ndarray, size: tuple[int, ...]) -> None:
    if image.shape[:2] != tuple(size):
        raise UserError(f"{path}: image is {image.shape[1]}x{image.shape[0]} pixels, but the clips' frames are "
                        f"{size[1]}x{size[0]}; every frame and mask must have one size; {FIX}")


def _read_png(path: Path, mode: str) -> np.ndarray:
    from PIL import Image

    require_file(path, FIX)
    try:
        with Image.open(path) as image:
            return np.asarray(image.convert(mode), dtype=np.uint8)
    except (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError) as exc:
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise UserError(f"{path}: unreadable or truncated PNG ({detail}); {FIX}") from None


FEATURE_FIX = f"the feature level needs per-second audio features; {FIX}"


def _features(root: Path, rows: list[S4Row]) -> RowArray:
    """Lazy float32 [N, 5, D]: every file must exist now; the first one is read (and checked) for D."""
    for row in rows:
        require_file(row.path(root, FEATURES, ".npy"), FEATURE_FIX)
    dim = _load_features(rows[0].path(root, FEATURES, ".npy"), None).shape[1]
    return PerClipRows(_Features(root, rows, dim), len(rows), (FRAMES, dim), np.float32)


@dataclass(frozen=True)
class _Features:
    """Row i: the features of rows[i], checked to be numbers [5, dim] with no NaN or inf."""

    root: Path
    rows: list[S4Row]
    dim: int

    def __call__(self, i: int) -> np.ndarray:
        return _load_features(self.rows[i].path(self.root, FEATURES, ".npy"), self.dim)


def _load_features(path: Path, dim: int | None) -> np.ndarray:
    """The array of a clip's .npy, checked to be numbers [5, dim] (dim None: any D) with no NaN or inf."""
    require_file(path, FEATURE_FIX)
    try:
        array = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as exc:
        raise UserError(f"{path}: unreadable .npy file ({type(exc).__name__}); {FIX}") from None
    dim = dim if dim is not None else (array.shape[1] if array.ndim == 2 else None)
    if array.ndim != 2 or array.shape != (FRAMES, dim) or not np.issubdtype(array.dtype, np.number):
        raise UserError(f"{path}: features of shape {array.shape} ({array.dtype}), expected numbers [{FRAMES}, "
                        f"{dim or 'D'}] (one row per second, one D for all clips); {FIX}")
    if not np.isfinite(array).all():
        raise UserError(f"{path}: features contain NaN or inf; {FIX}")
    return array


def _waves(root: Path, rows: list[S4Row]) -> RowArray:
    """Lazy float32 [N, 80000]: every file must exist now; each is read and checked when its row is."""
    for row in rows:
        require_file(row.path(root, "audio_wav", ".wav"), FIX)
    return PerClipRows(_Waves(root, rows), len(rows), (FRAMES * SAMPLE_RATE,), np.float32)


@dataclass(frozen=True)
class _Waves:
    """Row i: the wave of rows[i], 4.5 to 5.5 s cut or zero-padded to 5 s."""

    root: Path
    rows: list[S4Row]

    def __call__(self, i: int) -> np.ndarray:
        length = FRAMES * SAMPLE_RATE
        path = require_file(self.rows[i].path(self.root, "audio_wav", ".wav"), FIX)
        wave = read_wave(path, FIX, format_fix="resample it (ffmpeg -ac 1 -ar 16000)")
        if abs(wave.shape[0] - length) > SAMPLE_RATE // 2:
            raise UserError(f"{path}: {wave.shape[0] / SAMPLE_RATE:g} s of audio, expected {FRAMES} s (4.5 to 5.5 s "
                            f"are cut or padded); {FIX}")
        out = np.zeros(length, dtype=np.float32)
        kept = min(length, wave.shape[0])
        out[:kept] = wave[:kept]
        return out

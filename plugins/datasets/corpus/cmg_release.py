"""CMG's release of VGGSound-AVEL (github.com/haihuangcode/CMG), read as CMG's own loader reads it, but
with a pickle loader that admits numpy arrays and nothing else.

The release (code/src/pretrain.py:231-239, `args.dataset_name == 'vggsound_AVT'`):
    vggsound-avel40k.csv            meta: columns `category`, `video_id`, `split` (train/test/val)
    vggsoundCategories2Prompts.csv  `label,prompt`: one descriptive sentence per category
    audio/zip/<video_id>.zip        a pickled numpy array, VGGish audio features [T, 128] (T = 10)
    video/zip/<video_id>.zip        a pickled numpy array, VGG19 pool5 visual features [10, 7, 7, 512]
What CMG's `VGGSoundDataset_AVT` (code/src/dataset/VGGSOUND_dataset.py:144-188) does, and so do we:
- rows: those of split train, then test, then val (lines 152-155), each in file order: all 40,801
  clips, the paper's "40K" (its "24K" is the train split alone, the comment of lines 34-35; the
  paper, section 5.1, names both sizes and does not say which rows they are);
- a zip's feature: the member whose name contains ".pkl" (the last such member, lines 181-187; a zip
  without one fails in CMG with an unbound name, here it is a damaged zip);
- audio of T != 10 segments: the last row repeated up to 10, or the first 10 kept (lines 169-174);
  visual as it is (CMG never reshapes it);
- a clip's caption: the prompt of the first row of the prompts file whose label is the clip's
  category (line 167, `label2prompt.loc[label == category].values[0][1]`).
The paper (section 5.1) says the prompts are "descriptive sentences" designed for the labels; the code's
file is that design, one sentence per category.
"""
from __future__ import annotations

import csv
import io
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from avtbench.api import UserError
from avtbench.safe_pickle import RefusedPickle, numpy_arrays, restricted_load

SEGMENTS = 10
AUDIO_SHAPE = (SEGMENTS, 128)
VISUAL_SHAPE = (SEGMENTS, 7, 7, 512)
CMG_SPLIT_ORDER = ("train", "test", "val")
"""The splits CMG pretrains on, in the order it concatenates them (VGGSOUND_dataset.py:152-155)."""
META_COLUMNS = ("category", "video_id", "split")
PROMPT_COLUMNS = ("label", "prompt")
MEMBER_LIMIT = 64 * 2**20
"""The most bytes a zip member may unpack to: a video's visual features are 1 MB; more is not a feature file."""


@dataclass(frozen=True)
class MetaRow:
    video_id: str
    category: str
    split: str


class Skip(Exception):
    """A video that cannot be converted: `status` (missing, damaged, refused, shape) and one line naming the file."""

    def __init__(self, status: str, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def read_table(path: Path, columns: tuple[str, ...], option: str) -> list[dict[str, str]]:
    """Rows of a CSV with (at least) `columns` in its header line; a bad file is a one-line UserError."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise UserError(f"{option} {path}: file not found; pass the file of CMG's release") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{option} {path}: unreadable ({type(exc).__name__}); pass the file of CMG's release") from None
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in columns if c not in (reader.fieldnames or [])]
    if missing:
        raise UserError(f"{option} {path}: no column {missing[0]!r} in its header line (it has "
                        f"{', '.join(reader.fieldnames or []) or 'none'}); the file needs columns {', '.join(columns)}")
    rows = []
    for number, row in enumerate(reader, 2):
        if any(row.get(c) is None or not row[c].strip() for c in columns):
            raise UserError(f"{path}:{number}: an empty field among {', '.join(columns)}; fix the row")
        rows.append({c: row[c] for c in columns})
    return rows


def read_meta(path: Path, splits: tuple[str, ...]) -> tuple[list[MetaRow], int]:
    """(the rows of `splits`, in that order and each in file order; how many rows of other splits were left out)."""
    rows = [MetaRow(r["video_id"].strip(), r["category"], r["split"].strip()) for r in read_table(path, META_COLUMNS, "--meta")]
    first: dict[str, int] = {}
    for number, row in enumerate(rows, 2):
        if row.video_id in first:
            raise UserError(f"{path}:{number}: video_id {row.video_id!r} again (first on line {first[row.video_id]}); "
                            "keep one row per video")
        if "\t" in row.video_id or "/" in row.video_id or row.video_id.startswith("."):
            raise UserError(f"{path}:{number}: video_id {row.video_id!r} cannot name a file; fix the row")
        first[row.video_id] = number
    chosen = [row for split in splits for row in rows if row.split == split]
    if not chosen:
        found = ", ".join(sorted({r.split for r in rows})) or "none"
        raise UserError(f"--meta {path}: no row of split(s) {', '.join(splits)} (its splits: {found}); pick --splits among them")
    return chosen, len(rows) - len(chosen)


def read_prompts(path: Path) -> dict[str, str]:
    """Category -> its prompt; the first row of a label wins, as CMG's lookup takes it."""
    prompts: dict[str, str] = {}
    for number, row in enumerate(read_table(path, PROMPT_COLUMNS, "--prompts"), 2):
        prompt = row["prompt"].strip()
        if "\t" in prompt or "\n" in prompt:
            raise UserError(f"{path}:{number}: the prompt holds a tab or a line break, which a caption cannot; fix the row")
        prompts.setdefault(row["label"], prompt)
    return prompts


def require_prompts(rows: list[MetaRow], prompts: dict[str, str], meta: Path, prompts_path: Path) -> None:
    """A UserError naming the first category (by meta order) that has no prompt, and how many lack one."""
    lacking = list(dict.fromkeys(r.category for r in rows if r.category not in prompts))
    if lacking:
        videos = sum(r.category in set(lacking) for r in rows)
        more = f" (and {len(lacking) - 1} more categories)" if len(lacking) > 1 else ""
        raise UserError(f"category {lacking[0]!r} of --meta {meta} has no prompt in --prompts {prompts_path}{more}, "
                        f"so {videos} video(s) would get no caption; add a row '{lacking[0]},<prompt>' or pass CMG's "
                        "vggsoundCategories2Prompts.csv")


def read_video(row: MetaRow, audio_dir: Path, video_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    """The video's audio [10, 128] and visual [10, 7, 7, 512] float32 features; `Skip` when it cannot be."""
    audio = _checked(load_feature(audio_dir / f"{row.video_id}.zip"), "audio", audio_dir / f"{row.video_id}.zip")
    visual = _checked(load_feature(video_dir / f"{row.video_id}.zip"), "visual", video_dir / f"{row.video_id}.zip")
    return audio, visual


def load_feature(path: Path) -> np.ndarray:
    """The array pickled in the zip `path`, as CMG's `_load_fea` finds it (the last member whose name holds
    ".pkl"), unpickled admitting numpy arrays only: anything else is a `Skip` naming the file."""
    if not path.is_file():
        raise Skip("missing", f"{path}: file not found")
    try:
        with zipfile.ZipFile(path) as archive:
            members = [m for m in archive.infolist() if ".pkl" in m.filename]
            if not members:
                raise Skip("damaged", f"{path}: no member named *.pkl* (it holds {_names(archive)})")
            member = members[-1]
            if member.file_size > MEMBER_LIMIT:
                raise Skip("damaged", f"{path}:{member.filename}: unpacks to {member.file_size:,} bytes, more than "
                                      f"a feature array ({MEMBER_LIMIT:,} at most)")
            payload = archive.read(member)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, NotImplementedError, OSError, EOFError, ValueError) as exc:
        raise Skip("damaged", f"{path}: not a readable zip ({type(exc).__name__}: {_first_line(exc)})") from None
    source = f"{path}:{member.filename}"
    try:
        value = restricted_load(io.BytesIO(payload), numpy_arrays(), source=source)
    except RefusedPickle as exc:
        raise Skip("refused", str(exc)) from None
    except UserError as exc:
        raise Skip("damaged", str(exc)) from None
    if not isinstance(value, np.ndarray):
        raise Skip("refused", f"{source} holds a {type(value).__name__}, not a numpy array (CMG's files hold one array)")
    return value


def _checked(array: np.ndarray, modality: str, path: Path) -> np.ndarray:
    """`array` as float32 of the release's shape (audio padded or cut to 10 segments as CMG does); `Skip` otherwise."""
    want = AUDIO_SHAPE if modality == "audio" else VISUAL_SHAPE
    if array.dtype.kind not in "fiu":
        raise Skip("shape", f"{path}: a {array.dtype} array, not numbers")
    if modality == "audio" and array.ndim == 2 and array.shape[0] >= 1 and array.shape[1:] == want[1:]:
        array = _ten_segments(array)
    if array.shape != want:
        raise Skip("shape", f"{path}: {modality} features of shape {list(array.shape)}, expected {list(want)}")
    array = array.astype(np.float32)
    if not np.isfinite(array).all():
        raise Skip("shape", f"{path}: {modality} features hold NaN or inf")
    return array


def _ten_segments(audio: np.ndarray) -> np.ndarray:
    """CMG's audio of T segments made 10 (VGGSOUND_dataset.py:169-174): the last row repeated, or the first 10 kept."""
    if audio.shape[0] < SEGMENTS:
        return np.concatenate([audio, np.tile(audio[-1:], (SEGMENTS - audio.shape[0], 1))], axis=0)
    return audio[:SEGMENTS]


def _names(archive: zipfile.ZipFile) -> str:
    names = archive.namelist()
    return ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "") if names else "nothing"


def _first_line(exc: BaseException) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__

"""Reader of a pretraining corpus in avtbench's own format (the synthetic world writes it; a real
corpus such as VGGSound-AVEL can be converted to it).

Folder layout:
    video_ids.txt        one clip id per line; defines the row order
    audio_feature.h5     key `avadataset`, float [N, T, Da]
    visual_feature.h5    key `avadataset`, float [N, T, H, W, C] ([N, T, D] is read as [N, T, 1, 1, D])
    captions.tsv         optional; tab-separated `video_id<TAB>caption` with that header, one row per clip
    events.h5            optional, synthetic corpora only; key `events`, uint8 [N, T, K] (bit 0: the
                         event is audible in that segment, bit 1: visible; 0: inactive) and attr
                         `class_names` (K names)
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from avtbench.api import Clips, UserError
from avtbench.data.files import FEATURE_KEY, read_h5, read_h5_rows, read_text, require_dir, with_h5_dataset

CAPTION_HEADER = ["video_id", "caption"]
_FIX = "re-convert the corpus to the format in avtbench/data/corpus.py; in a synthetic world, delete the world folder to regenerate it"


def read_corpus(root: Path) -> Clips:
    """All clips of the corpus; `text` when captions.tsv exists, `labels["events"]` when events.h5 exists."""
    root = require_dir(Path(root), "corpus")
    ids = _read_ids(root / "video_ids.txt")
    rows, count = np.arange(len(ids)), (len(ids), "video_ids.txt")
    audio = read_h5_rows(root / "audio_feature.h5", FEATURE_KEY, rows, count, (None, None), _FIX)
    visual = read_h5_rows(root / "visual_feature.h5", FEATURE_KEY, rows, count, (None, None, None, None), _FIX, alt_shape=(None, None))
    if visual.ndim == 3:
        visual = visual[:, :, None, None, :]
    if audio.shape[1] != visual.shape[1]:
        raise UserError(f"{root}: audio has {audio.shape[1]} segments per clip, visual {visual.shape[1]}; {_FIX}")
    clips = Clips(ids=ids, audio=audio, visual=visual)
    if (root / "captions.tsv").exists():
        clips.text = _read_captions(root / "captions.tsv", ids)
    if (root / "events.h5").exists():
        clips.labels["events"], clips.class_names = _read_events(root / "events.h5", audio.shape[:2])
    return clips


def _read_ids(path: Path) -> list[str]:
    ids = [line.strip() for line in read_text(path, _FIX).splitlines() if line.strip()]
    if not ids:
        raise UserError(f"{path}: no clip ids; {_FIX}")
    if len(set(ids)) != len(ids):
        raise UserError(f"{path}: duplicate clip ids; keep each id once")
    return ids


def _read_captions(path: Path, ids: list[str]) -> list[str]:
    lines = read_text(path, _FIX).splitlines()
    if not lines or lines[0].rstrip("\r").split("\t") != CAPTION_HEADER:
        raise UserError(f"{path}: first line must be the tab-separated header video_id caption; {_FIX}")
    captions: dict[str, str] = {}
    for number, line in enumerate(lines[1:], 2):
        if not line.strip():
            continue
        fields = line.rstrip("\r").split("\t")
        if len(fields) != 2:
            raise UserError(f"{path}:{number}: expected 2 tab-separated fields (video_id, caption), got {len(fields)}; fix the row")
        captions[fields[0].strip()] = fields[1].strip()
    missing = [i for i in ids if i not in captions]
    if missing:
        raise UserError(f"{path}: no caption for {len(missing)} clip(s) of video_ids.txt, e.g. {missing[0]!r}; add one row per clip")
    return [captions[i] for i in ids]


def _read_events(path: Path, leading: tuple[int, int]) -> tuple[np.ndarray, list[str]]:
    events = read_h5(path, "events", _FIX)
    if events.ndim != 3 or events.shape[:2] != leading:
        raise UserError(f"{path}: 'events' has shape {events.shape}, expected [{leading[0]}, {leading[1]}, K]; {_FIX}")
    names = [n.decode() if isinstance(n, bytes) else str(n) for n in with_h5_dataset(path, "events", _FIX, _class_names)]
    if len(names) != events.shape[2]:
        raise UserError(f"{path}: attr 'class_names' must name the {events.shape[2]} event classes; {_FIX}")
    return events.astype(np.uint8), names


def _class_names(ds: Any) -> list:
    """The `class_names` attr of the dataset, or of the file."""
    attrs = ds.attrs if "class_names" in ds.attrs else ds.file.attrs
    return list(attrs.get("class_names", []))

"""Reader of a pretraining corpus in avtbench's own format (the synthetic world writes it; a real
corpus such as VGGSound-AVEL can be converted to it). The retrieval set (`retrieval/`) has the same
format.

Folder layout:
    video_ids.txt        one clip id per line; defines the row order
    audio_feature.h5     key `avadataset`, float [N, T, Da]
    visual_feature.h5    key `avadataset`, float [N, T, H, W, C] ([N, T, D] is read as [N, T, 1, 1, D])
    captions.tsv         optional; tab-separated `video_id<TAB>caption` with that header, one row per
                         caption: a clip with several captions has several rows (at least one per clip)
    events.h5            optional, synthetic corpora only; key `events`, uint8 [N, T, K] (bit 0: the
                         event is audible in that segment, bit 1: visible; 0: inactive) and attr
                         `class_names` (K names)
    latents.h5           optional, synthetic corpora only; keys `audio` and `visual`, float [N, T, L]:
                         per segment, the sum of the latent vectors of the events heard / seen there
    raw/                 the raw level (see avtbench/data/raw.py): raw/audio/<id>.wav,
                         raw/frames/<id>.png, optional raw/masks/<id>.png; and optional
                         raw/video_ids.txt, the clips that have a raw level when only some have
                         (the synthetic corpus renders its first `raw_clips` clips only)
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from avtbench.api import LEVELS, Clips, UserError
from avtbench.data.captions import CAPTIONS_FILE, read_captions
from avtbench.data.files import FEATURE_KEY, h5_rows, h5_shape, read_text, require_dir, with_h5_dataset
from avtbench.data.rows import H5Rows, RowArray
from avtbench.data.raw import read_raw

from . import CORPUS_FORMAT

__all__ = ["CORPUS_FORMAT", "read_corpus", "read_split"]
"""`CORPUS_FORMAT` lives beside the corpus's card (light to import); it is named here too, where
datasets in the corpus format (the retrieval set, third-party ones) have always found it."""

_FIX = "re-convert the corpus to the corpus format (avtbench_plugins.datasets.corpus.reader); in a synthetic world, delete the world folder to regenerate it"


def read_corpus(root: Path, level: str = "features") -> Clips:
    """All clips of the corpus at `level` ("features" or "raw"; see `Clips`), as lazy arrays: shapes
    and row counts are checked now, rows are read (and checked for NaN) when indexed.

    `text` (first caption) and `captions` (all) when captions.tsv exists, `labels["events"]` when
    events.h5 exists, `labels["latents.audio"]` and `labels["latents.visual"]` when latents.h5 does; at the raw level also `labels["masks"]` when raw/masks/ exists. The raw
    level covers the clips of raw/video_ids.txt when that file exists, else all clips.
    """
    if level not in LEVELS:
        raise UserError(f"unknown input level {level!r}; use one of {', '.join(LEVELS)}")
    root = require_dir(Path(root), "corpus")
    ids = _read_ids(root / "video_ids.txt")
    if level == "raw":
        clips, rows = _read_raw_level(root, ids)
    else:
        clips, rows = _read_features(root, ids), np.arange(len(ids))
    if (root / CAPTIONS_FILE).exists():
        clips.captions = read_captions(root / CAPTIONS_FILE, clips.ids, _FIX)
        clips.text = [c[0] for c in clips.captions]
    if (root / "events.h5").exists():
        segments = clips.audio.shape[1] if level == "features" else clips.visual.shape[1]
        clips.labels["events"], clips.class_names = _read_events(root / "events.h5", (len(ids), segments), rows)
    if (root / "latents.h5").exists():
        for modality in ("audio", "visual"):
            clips.labels[f"latents.{modality}"] = h5_rows(root / "latents.h5", modality, (len(ids), "video_ids.txt"),
                                                          (None, None), _FIX, rows=rows)
    return clips


def _read_features(root: Path, ids: list[str]) -> Clips:
    count = (len(ids), "video_ids.txt")
    audio = h5_rows(root / "audio_feature.h5", FEATURE_KEY, count, (None, None), _FIX)
    visual = h5_rows(root / "visual_feature.h5", FEATURE_KEY, count, (None, None, None, None), _FIX, alt_shape=(None, None))
    if audio.shape[1] != visual.shape[1]:
        raise UserError(f"{root}: audio has {audio.shape[1]} segments per clip, visual {visual.shape[1]}; {_FIX}")
    return Clips(ids=ids, audio=audio, visual=visual)


def _read_raw_level(root: Path, ids: list[str]) -> tuple[Clips, np.ndarray]:
    """Clips with raw audio and frames, and their rows in video_ids.txt."""
    subset = root / "raw" / "video_ids.txt"
    if subset.exists():
        row_of = {clip: i for i, clip in enumerate(ids)}
        chosen = _read_ids(subset)
        unknown = [clip for clip in chosen if clip not in row_of]
        if unknown:
            raise UserError(f"{subset}: {len(unknown)} id(s) not in video_ids.txt, e.g. {unknown[0]!r}; list clips of the corpus only")
        rows = np.array([row_of[clip] for clip in chosen], dtype=np.int64)
    else:
        rows = np.arange(len(ids))
    names = [ids[i] for i in rows]
    raw = read_raw(root, names, "corpus")
    clips = Clips(ids=names, audio=raw.audio, visual=raw.visual)
    if raw.masks is not None:
        clips.labels["masks"] = raw.masks
    return clips, rows


def _read_ids(path: Path) -> list[str]:
    ids = [line.strip() for line in read_text(path, _FIX).splitlines() if line.strip()]
    if not ids:
        raise UserError(f"{path}: no clip ids; {_FIX}")
    if len(set(ids)) != len(ids):
        raise UserError(f"{path}: duplicate clip ids; keep each id once")
    return ids


def _read_events(path: Path, leading: tuple[int, int], rows: np.ndarray) -> tuple[RowArray, list[str]]:
    """The event labels of the clips at `rows` (lazy, uint8 [N, T, K]) and the K class names."""
    shape = h5_shape(path, "events", _FIX)
    if len(shape) != 3 or shape[:2] != leading:
        raise UserError(f"{path}: 'events' has shape {shape}, expected [{leading[0]}, {leading[1]}, K]; {_FIX}")
    names = [n.decode() if isinstance(n, bytes) else str(n) for n in with_h5_dataset(path, "events", _FIX, _class_names)]
    if len(names) != shape[2]:
        raise UserError(f"{path}: attr 'class_names' must name the {shape[2]} event classes; {_FIX}")
    return H5Rows(path, "events", _FIX, rows=rows, dtype=np.uint8, file_shape=shape), names


def _class_names(ds: Any) -> list:
    """The `class_names` attr of the dataset, or of the file."""
    attrs = ds.attrs if "class_names" in ds.attrs else ds.file.attrs
    return list(attrs.get("class_names", []))


def read_split(root: Path, split: str = "all", level: str = "features") -> Clips:
    """The `Dataset.reader` of a dataset in the corpus format: its one split, `all`, is every clip."""
    return read_corpus(root, level=level)

"""A dataset in the corpus format, as files (the declaration's `layout`, for `avtbench data check`): the
clips of video_ids.txt, the arrays holding one row per clip (features; events and latents where present),
and the raw level's per-clip files where raw/ exists (of raw/video_ids.txt's clips when it lists them)."""
from __future__ import annotations

from pathlib import Path

from avtbench.api import ArrayFile, SplitLayout
from avtbench.data.files import FEATURE_KEY
from avtbench.data.raw import raw_files

from .reader import _read_ids


def corpus_layout(root: Path, split: str = "all") -> SplitLayout:
    root = Path(root)
    ids = _read_ids(root / "video_ids.txt")
    n, source = len(ids), "video_ids.txt"
    arrays = [ArrayFile("audio features", root / "audio_feature.h5", FEATURE_KEY, n, source),
              ArrayFile("visual features", root / "visual_feature.h5", FEATURE_KEY, n, source)]
    if (root / "events.h5").exists():
        arrays.append(ArrayFile("events", root / "events.h5", "events", n, source, dtypes="u"))
    if (root / "latents.h5").exists():
        arrays += [ArrayFile(f"{m} latents", root / "latents.h5", m, n, source) for m in ("audio", "visual")]
    raw_ids = root / "raw" / "video_ids.txt"
    raw = raw_files(root, _read_ids(raw_ids) if raw_ids.exists() else ids)
    return SplitLayout(tuple(ids), source, raw, tuple(arrays))

"""AVVP's files split by split (the declaration's `layout`, for `avtbench data check`): the videos each
list names, and their per-video feature files, feats/vggish/ and feats/vgg19/ (the reader's default
visual folder), found as the reader finds them (by the 11-character id, else the filename); the raw
level's files where raw/ exists. CMG's lists are optional splits."""
from __future__ import annotations

import os
from pathlib import Path

from avtbench.api import ClipFiles, SplitLayout
from avtbench.data.raw import raw_files

from .reader import CMG_LISTS, SPLIT_FILES, _short_first, read_avvp_rows

VISUAL_FEATURES = "vgg19"
"""The visual feature folder the reader reads by default (`read_avvp(visual_features=...)`)."""


def avvp_layout(root: Path, split: str) -> SplitLayout:
    root = Path(root)
    listed = SPLIT_FILES[split]
    if split in CMG_LISTS and not (root / listed).exists():
        return SplitLayout.not_here(f"optional: CMG's {listed}, for protocol=cmg")
    names, _ = read_avvp_rows(root, split)
    files = tuple(_features(root / "feats" / folder, kind, names)
                  for kind, folder in (("audio features", "vggish"), ("visual features", VISUAL_FEATURES)))
    return SplitLayout(tuple(names), listed, files + raw_files(root, names, file_names=_short_first))


def _features(folder: Path, kind: str, names: list[str]) -> ClipFiles:
    """Each video's .npy in `folder`: `<11-char id>.npy`, else `<filename>.npy` where only that exists."""
    present = set(os.listdir(folder)) if folder.is_dir() else set()
    paths = []
    for name in names:
        stems = [f"{s}.npy" for s in _short_first(name)]
        paths.append(folder / next((s for s in stems if s in present), stems[0]))
    return ClipFiles(kind, folder, tuple(paths), "*.npy")

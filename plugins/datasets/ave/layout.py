"""AVE's files split by split (the declaration's `layout`, for `avtbench data check`): the rows of
Annotations.txt each order file lists, the feature and label arrays they read rows of, and the raw level's
per-clip files where raw/ exists. Clips are rows of Annotations.txt (4,143 in the release, 4,097 distinct
VideoIDs: a video can hold two annotated clips)."""
from __future__ import annotations

from pathlib import Path

from avtbench.api import ArrayFile, SplitLayout
from avtbench.data.files import FEATURE_KEY
from avtbench.data.raw import raw_files

from .reader import _CMG_FIX, _FIX, CMG_SPLITS, _read_order, read_ave_annotations


def ave_layout(root: Path, split: str) -> SplitLayout:
    root = Path(root)
    order_file = f"{split}_order.h5"
    if split in CMG_SPLITS and not (root / order_file).exists():
        return SplitLayout.not_here(f"optional: CMG's {order_file} and {CMG_SPLITS[split]}, for protocol=cmg")
    annotations = read_ave_annotations(root / "Annotations.txt")
    n = len(annotations)
    order = _read_order(root / order_file, n, _CMG_FIX if split in CMG_SPLITS else _FIX)
    arrays = [ArrayFile("audio features", root / "audio_feature.h5", FEATURE_KEY, n, "Annotations.txt"),
              ArrayFile("visual features", root / "visual_feature.h5", FEATURE_KEY, n, "Annotations.txt")]
    if (root / "labels.h5").exists():
        arrays.append(ArrayFile("segment labels", root / "labels.h5", FEATURE_KEY, n, "Annotations.txt"))
    if split in CMG_SPLITS:
        arrays.append(ArrayFile("CMG's labels", root / CMG_SPLITS[split], FEATURE_KEY, n, "Annotations.txt"))
    names = [annotations[i].video_id for i in order]
    return SplitLayout(tuple(str(i) for i in order), f"{order_file} (rows of Annotations.txt)",
                       raw_files(root, names), tuple(arrays))

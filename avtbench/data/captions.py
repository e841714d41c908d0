"""`captions.tsv`, the captions of a dataset's clips (synthetic datasets and corpora; not in the AVE/AVVP releases).

Format: tab-separated `video_id<TAB>caption` with that header line; one row per caption, so a clip
with several captions has several rows, in the order they are listed.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from avtbench.api import UserError
from avtbench.data.files import read_text

CAPTION_HEADER = ["video_id", "caption"]
CAPTIONS_FILE = "captions.tsv"


def read_captions(path: Path, ids: list[str], fix: str, aliases: Callable[[str], list[str]] | None = None) -> list[list[str]]:
    """Every caption of each clip of `ids`, in file order; each clip needs at least one.

    aliases: other ids a clip's rows may use (e.g. the 11-char YouTube id of an AVVP filename).
    """
    by_id = _rows(Path(path), fix)
    result = []
    for clip in ids:
        keys = [clip] + (aliases(clip) if aliases else [])
        captions = next((by_id[k] for k in keys if k in by_id), None)
        if captions is None:
            missing = sum(not any(k in by_id for k in [i] + (aliases(i) if aliases else [])) for i in ids)
            raise UserError(f"{path}: no caption for {missing} clip(s), e.g. {clip!r}; add at least one row per clip")
        result.append(captions)
    return result


def _rows(path: Path, fix: str) -> dict[str, list[str]]:
    lines = read_text(path, fix).splitlines()
    if not lines or lines[0].rstrip("\r").split("\t") != CAPTION_HEADER:
        raise UserError(f"{path}: first line must be the tab-separated header video_id caption; {fix}")
    by_id: dict[str, list[str]] = {}
    for number, line in enumerate(lines[1:], 2):
        if not line.strip():
            continue
        fields = line.rstrip("\r").split("\t")
        if len(fields) != 2 or not fields[0].strip() or not fields[1].strip():
            raise UserError(f"{path}:{number}: expected 2 non-empty tab-separated fields (video_id, caption); fix the row")
        by_id.setdefault(fields[0].strip(), []).append(fields[1].strip())
    return by_id

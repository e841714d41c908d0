"""The sizes of a generated dataset's files, written beside them, so that a truncated or missing file
in the cache is noticed before a reader trips over it (and the dataset is generated again)."""
from __future__ import annotations

import json
from pathlib import Path

SIZES = "SIZES.json"
"""{relative path: bytes} of every file of a dataset folder (its raw/ level keeps its own)."""
_MARKERS = {SIZES, "COMPLETE"}


def _files(folder: Path, skip: tuple[str, ...]) -> dict[str, int]:
    out = {}
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if path.is_file() and relative.parts[0] not in skip and path.name not in _MARKERS \
                and not any(p.startswith(".") for p in relative.parts):
            out[relative.as_posix()] = path.stat().st_size
    return out


def write_sizes(folder: Path, skip: tuple[str, ...] = ("raw",)) -> None:
    """Record the size of every file under `folder` (but those under the sub-folders in `skip`), if it exists."""
    if not Path(folder).is_dir():
        return
    (Path(folder) / SIZES).write_text(json.dumps(_files(Path(folder), skip), indent=0, sort_keys=True) + "\n")


def damage(folder: Path) -> str | None:
    """What is wrong with `folder` against its recorded sizes (a missing, truncated or grown file, an
    unreadable list), or None when it is intact or no sizes were recorded."""
    listing = Path(folder) / SIZES
    if not listing.is_file():
        return None
    try:
        expected = json.loads(listing.read_text())
        if not isinstance(expected, dict):
            raise ValueError("not a mapping")
    except (OSError, ValueError) as exc:
        return f"{listing} is unreadable ({type(exc).__name__})"
    for name, size in expected.items():
        path = Path(folder) / name
        if not path.is_file():
            return f"{path} is missing"
        actual = path.stat().st_size
        if actual != size:
            return f"{path} has {actual} bytes, {size} were written"
    return None

"""Digests of a world folder's contents, not its file bytes.

An HDF5 file's bytes depend on the h5py / libhdf5 build as well as on the numbers in it, so
comparing files across machines cannot tell a changed generator from another library. These
digests hash what a reader sees: each HDF5 dataset's dtype, shape and values, each `.npy` array,
each WAV's samples, each PNG's pixels, and the bytes of text files (annotations, CSVs, captions);
not the raw level's videos (`UNPINNED`).

    python -m avtbench.synth.digest WORLD_DIR [--raw] [--per-dataset]    # one line each: digest, name
"""
from __future__ import annotations

import argparse
import hashlib
import io
import wave
from pathlib import Path

import numpy as np

SKIPPED = {".lock"}
"""Suffixes of files that hold no content (locks)."""
BOOKKEEPING = {"SIZES.json"}
"""Files that describe the files (their sizes depend on the HDF5 library), not the world."""
UNPINNED = {".mp4"}
"""Suffixes of files whose bytes FFmpeg's encoders do not fix across hosts (the raw level's videos,
`video.py`): the same content is in the WAV and PNG files, which are digested."""


def array_digest(array: np.ndarray) -> str:
    """sha256 of an array's dtype, shape and C-ordered values."""
    array = np.ascontiguousarray(array)
    h = hashlib.sha256(f"{array.dtype.str}{array.shape}".encode())
    h.update(array.tobytes())
    return h.hexdigest()


def file_digest(path: Path) -> str:
    """What a reader of `path` sees, hashed (see the module docstring)."""
    suffix = path.suffix.lower()
    if suffix == ".h5":
        import h5py

        h = hashlib.sha256()
        with h5py.File(path, "r") as f:
            names: list[str] = []
            f.visit(names.append)
            for name in sorted(names):
                if isinstance(f[name], h5py.Dataset):
                    h.update(name.encode() + array_digest(f[name][()]).encode())
        return h.hexdigest()
    if suffix == ".npy":
        return array_digest(np.load(path, allow_pickle=False))
    if suffix == ".wav":
        with wave.open(io.BytesIO(path.read_bytes())) as w:
            header = f"{w.getnchannels()}:{w.getsampwidth()}:{w.getframerate()}"
            return hashlib.sha256(header.encode() + w.readframes(w.getnframes())).hexdigest()
    if suffix == ".png":
        from PIL import Image

        with Image.open(path) as image:
            return array_digest(np.asarray(image))
    return hashlib.sha256(path.read_bytes()).hexdigest()


def world_digests(root: Path, raw_level: bool = True) -> dict[str, str]:
    """{relative path: digest} of every file under `root` (the raw level's files only if raw_level)."""
    root = Path(root)
    out = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if not path.is_file() or path.suffix in SKIPPED | UNPINNED or path.name in BOOKKEEPING:
            continue
        if any(p.startswith(".") or ".corrupt-" in p for p in relative.parts):  # temporaries, damaged copies set aside
            continue
        if not raw_level and _is_raw(relative):
            continue
        out[relative.as_posix()] = file_digest(path)
    return out


def dataset_digests(root: Path, raw_level: bool = True) -> dict[str, str]:
    """{dataset folder: one digest over its files' digests}, for the top-level folders of a world."""
    per_dataset: dict[str, hashlib._Hash] = {}
    for name, digest in world_digests(root, raw_level).items():
        if "/" in name:
            folder, rest = name.split("/", 1)
            per_dataset.setdefault(folder, hashlib.sha256()).update(f"{rest}\0{digest}\n".encode())
    return {folder: h.hexdigest() for folder, h in sorted(per_dataset.items())}


def _is_raw(relative: Path) -> bool:
    parts = relative.parts
    return "raw" in parts or relative.suffix in (".wav", ".png")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m avtbench.synth.digest", description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("--raw", action="store_true", help="include the raw level (WAVs, PNGs)")
    parser.add_argument("--per-dataset", action="store_true", help="one digest per dataset folder")
    args = parser.parse_args(argv)
    digests = dataset_digests if args.per_dataset else world_digests
    for name, digest in digests(args.root, args.raw).items():
        print(digest, name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

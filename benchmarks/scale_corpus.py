"""Corpora for `bench_scale.py`, in avtbench's corpus format, at the papers' sizes: random features
(VGGish 128 audio, VGG19 pool5 7x7x512 visual, 10 segments, HDF5 chunked by clip), the synthetic
corpus's extras that methods read (events.h5 and latents.h5 for the oracle, three captions per clip
from a fixed pool of sentences) and, for the raw level, 16 kHz waveforms and 64 x 64 frames.

The contents are noise: the benchmark measures memory and speed, not what a method learns.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

SEGMENTS, AUDIO, VISUAL = 10, (128,), (7, 7, 512)
CLASSES = [f"class {i}" for i in range(16)]
LATENT = 16
FRAME = 64
SAMPLE_RATE = 16000
WORDS = ["a dog barks", "a car passes", "rain falls", "a man speaks", "a bell rings", "birds sing", "a baby cries",
         "water flows"]
BLOCK = 100
"""Clips generated and written at a time, so that writing costs bounded memory too."""


def clip_ids(clips: int) -> list[str]:
    return [f"clip{i:07d}" for i in range(clips)]


def write_corpus(folder: Path, clips: int, raw: bool, seed: int = 0) -> Path:
    """A corpus of `clips` clips in `folder` (written once: a folder with COMPLETE is reused)."""
    if (folder / "COMPLETE").exists():
        return folder
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    ids = clip_ids(clips)
    (folder / "video_ids.txt").write_text("".join(f"{clip}\n" for clip in ids))
    _write_captions(folder, ids)
    rng = np.random.default_rng(seed)
    _write_features(folder, clips, rng)
    _write_labels(folder, clips, rng)
    if raw:
        _write_raw(folder, ids, rng)
    (folder / "COMPLETE").write_text("")
    return folder


def _write_captions(folder: Path, ids: list[str]) -> None:
    lines = ["video_id\tcaption"]
    for i, clip in enumerate(ids):
        lines += [f"{clip}\t{WORDS[(i + k) % len(WORDS)]} and {WORDS[(3 * i + k) % len(WORDS)]}" for k in range(3)]
    (folder / "captions.tsv").write_text("\n".join(lines) + "\n")


def _write_features(folder: Path, clips: int, rng: np.random.Generator) -> None:
    import h5py

    for name, shape in (("audio_feature.h5", AUDIO), ("visual_feature.h5", VISUAL)):
        with h5py.File(folder / name, "w") as f:
            ds = f.create_dataset("avadataset", shape=(clips, SEGMENTS, *shape), dtype=np.float32,
                                  chunks=(1, SEGMENTS, *shape))
            for start in range(0, clips, BLOCK):
                rows = min(BLOCK, clips - start)
                ds[start:start + rows] = rng.standard_normal((rows, SEGMENTS, *shape), dtype=np.float32)


def _write_labels(folder: Path, clips: int, rng: np.random.Generator) -> None:
    import h5py

    with h5py.File(folder / "events.h5", "w") as f:
        ds = f.create_dataset("events", shape=(clips, SEGMENTS, len(CLASSES)), dtype=np.uint8,
                              chunks=(1, SEGMENTS, len(CLASSES)))
        ds.attrs["class_names"] = CLASSES
        for start in range(0, clips, BLOCK):
            rows = min(BLOCK, clips - start)
            ds[start:start + rows] = rng.integers(0, 4, (rows, SEGMENTS, len(CLASSES)), dtype=np.uint8) * (
                rng.random((rows, SEGMENTS, len(CLASSES))) < 0.1)
    with h5py.File(folder / "latents.h5", "w") as f:
        for modality in ("audio", "visual"):
            ds = f.create_dataset(modality, shape=(clips, SEGMENTS, LATENT), dtype=np.float32, chunks=(1, SEGMENTS, LATENT))
            for start in range(0, clips, BLOCK):
                rows = min(BLOCK, clips - start)
                ds[start:start + rows] = rng.standard_normal((rows, SEGMENTS, LATENT), dtype=np.float32)


def _write_raw(folder: Path, ids: list[str], rng: np.random.Generator) -> None:
    from avtbench.synth.raw import RawWriter

    writer = RawWriter(folder)
    for clip in ids:
        wave = np.clip(rng.standard_normal(SEGMENTS * SAMPLE_RATE, dtype=np.float32) * 0.2, -1, 1)
        frames = rng.integers(0, 256, (SEGMENTS, FRAME, FRAME, 3), dtype=np.uint8)
        masks = (rng.random((SEGMENTS, FRAME, FRAME)) < 0.2).astype(np.uint8) * 255
        writer.write(clip, wave, frames, masks)

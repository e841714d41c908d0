"""What every dataset's synthetic writer stands on: clip ids, HDF5 files, feature and raw-level sinks.

The writers themselves live with their datasets (`Dataset.synthetic`, `api.SyntheticCopy`); they
render the world's events (`model.render_into`) through these helpers, so that files are written
alike: HDF5 chunked by clip and without timestamps, the raw level from its own generator.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from avtbench.data.files import FEATURE_KEY
from avtbench.synth import exact, raw
from avtbench.synth.events import Events
from avtbench.synth.model import RawSink, World, render_into

_ID_ALPHABET = np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"))


class IdMaker:
    """Unique 11-character YouTube-like ids."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.used: set[str] = set()

    def __call__(self) -> str:
        while True:
            vid = "".join(self.rng.choice(_ID_ALPHABET, size=11))
            if vid not in self.used:
                self.used.add(vid)
                return vid

    def skip(self, count: int) -> None:
        """Draw `count` ids and drop them: what the datasets written before this one took."""
        for _ in range(count):
            self()


class RawLevelWriter:
    """Renders and writes the raw level of the first `limit` clips, one chunk at a time.

    It draws only from its own generator, so the feature level is the same with or without it.
    """

    def __init__(self, world: World, folder: Path, names: list[str], rng: np.random.Generator, limit: int | None = None) -> None:
        self.world, self.names, self.rng = world, names, rng
        self.limit = len(names) if limit is None else min(limit, len(names))
        self.writer = raw.RawWriter(folder)

    def __call__(self, rows: slice, ev: Events, instance: np.ndarray) -> None:
        count = min(rows.stop, self.limit) - rows.start
        if count <= 0:
            return
        ev, instance = ev.take(slice(0, count)), instance[:count]
        w, s = self.world, self.world.sizes
        waves = raw.render_audio(w.looks, ev, instance, w.prototypes, s.segments, self.rng)
        frames, masks = raw.render_frames(w.looks, ev, instance, w.prototypes, s.segments, s.grid, s.frame_size, self.rng)
        for i, name in enumerate(self.names[rows.start : rows.start + count]):
            self.writer.write(name, waves[i], frames[i], masks[i])


def raw_sink(world: World, folder: Path, names: list[str], rng: np.random.Generator | None, limit: int | None = None) -> RawLevelWriter | None:
    """The raw level's writer of the clips `names`, or None without a raw-level generator."""
    return None if rng is None else RawLevelWriter(world, folder, names, rng, limit)


class LatentSink:
    """Keeps, per segment and modality, the sum of the instance latents (times gain) of the events
    heard / seen there (`latents.h5`, for the oracle), then hands the chunk to the raw level."""

    def __init__(self, latents: dict[str, np.ndarray], raw_sink: RawSink | None) -> None:
        self.latents, self.raw_sink = latents, raw_sink

    def __call__(self, rows: slice, ev: Events, instance: np.ndarray) -> None:
        T = self.latents["audio"].shape[1]
        heard = ev.audio_active(T) * ev.gain[:, :, None]
        seen = (ev.active(T) & ev.visible[:, :, None]) * ev.gain[:, :, None]
        self.latents["audio"][rows] = exact.slot_sum(heard, instance[:, :, None, :]).astype(np.float32)
        self.latents["visual"][rows] = exact.slot_sum(seen, instance[:, :, None, :]).astype(np.float32)
        if self.raw_sink is not None:
            self.raw_sink(rows, ev, instance)


def h5_create(path: Path, key: str, shape: tuple[int, ...], dtype: Any = np.float32, attrs: dict | None = None) -> tuple[Any, Any]:
    """An open h5py file and its one dataset, chunked by clip and written without timestamps (for identical bytes)."""
    import h5py

    f = h5py.File(path, "w", track_order=False)
    chunks = (1, *shape[1:]) if len(shape) >= 2 and shape[0] > 0 else None  # one clip per chunk: rows read alone
    ds = f.create_dataset(key, shape=shape, dtype=dtype, track_times=False, fillvalue=0, chunks=chunks)
    for name, value in (attrs or {}).items():
        ds.attrs[name] = value
    return f, ds


def h5_write(path: Path, key: str, data: np.ndarray, attrs: dict | None = None) -> None:
    f, ds = h5_create(path, key, data.shape, data.dtype, attrs)
    with f:
        ds[...] = data


def write_features(folder: Path, world: World, ev: Events, rng: np.random.Generator, raw_sink: RawSink | None = None) -> None:
    """The clips' features as audio_feature.h5 [N, T, Da] and visual_feature.h5 [N, T, H, W, C] (key
    `avadataset`), rendered chunk by chunk; each chunk also goes to `raw_sink`."""
    s = world.sizes
    n = ev.cls.shape[0]
    fa, da = h5_create(folder / "audio_feature.h5", FEATURE_KEY, (n, s.segments, s.audio_dim))
    fv, dv = h5_create(folder / "visual_feature.h5", FEATURE_KEY, (n, s.segments, s.grid, s.grid, s.channels))
    with fa, fv:

        def sink(rows: slice, audio: np.ndarray, visual: np.ndarray) -> None:
            da[rows] = audio
            dv[rows] = visual

        render_into(world, ev, rng, sink, raw_sink)

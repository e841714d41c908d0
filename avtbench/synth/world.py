"""The built-in synthetic audio-visual-text world, written in the real datasets' on-disk formats.

Generative model (DESIGN.md, "The synthetic world"):
- every class of CORPUS_CLASSES has a latent semantic prototype z_k (dim `latent_dim`); the AVE
  and AVVP classes use the prototype of their corpus class, so the 12 shared classes share it;
- an event instance has z = z_k + instance jitter, plus a small per-segment jitter; the same z
  drives both modalities (a big dog looks and sounds big);
- audio renders each audible event through its OWN fixed random 2-layer tanh MLP and sums them;
- visual renders each visible object as a Gaussian blob at its own place on the H x W grid times
  a channel vector from ANOTHER random MLP of z, summed over objects: a real H x W x C map;
- each modality adds nuisance (a per-clip latent, drifting per segment, through a third / fourth
  random MLP) and i.i.d. noise. A segment without events (AVE background) is nuisance + noise.
The modality maps are independent, so audio and visual features are not aligned: only a method
that learns the alignment from co-occurrence in the corpus can transfer a head across them.

Raw level (`raw.py`): the same events (and their instance latents) are also rendered as 16 kHz
waveforms, S x S RGB frames and object masks, written as raw/audio/<id>.wav, raw/frames/<id>.png
and raw/masks/<id>.png next to each dataset's features, plus captions.tsv (three paraphrases per
clip). AVE, AVVP and retrieval get the raw level for every clip; the corpus only for its first
`raw_clips` clips (listed in corpus/raw/video_ids.txt), because a waveform costs 320 kB per clip;
the default 1000 gives the synthetic CLIP and CLAP 500 clips each (disjoint halves).
Datasets: corpus/ (pretraining), ave/, avvp/, and retrieval/ (held-out clips in the corpus
format, never in the corpus, for clip <-> clip and clip <-> caption retrieval).

Determinism: every array comes from numpy Generators seeded by (seed, stream name), .h5 datasets
are written with `track_times=False` and fixed attributes, .wav and .png files without metadata,
so (profile, seed) fixes every byte. The raw level draws from its own streams, so it leaves the
feature level's numbers as they were.
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import tempfile
import zlib
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from avtbench.api import UserError
from avtbench.synth import raw
from avtbench.synth.vocab import AVE_CLASSES, AVVP_CLASSES, CORPUS_CLASSES, corpus_index

GENERATOR_VERSION = "3"

_ID_ALPHABET = np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"))
_CHUNK = 64  # clips rendered at a time: bounds memory on the paper profile


@dataclass(frozen=True)
class WorldSizes:
    """Sizes of one profile. Splits are (train, val, test) clip counts."""

    audio_dim: int
    grid: int  # visual H = W
    channels: int  # visual C
    corpus_clips: int
    ave_splits: tuple[int, int, int]
    avvp_splits: tuple[int, int, int]
    segments: int = 10
    latent_dim: int = 16
    hidden: int = 64
    nuisance_dim: int = 8
    retrieval_clips: int = 300
    frame_size: int = 32  # raw frames are S x S RGB
    raw_clips: int | None = None  # corpus clips (the first ones) with a raw level; None: all


PROFILES: dict[str, WorldSizes] = {
    # for tests: enough AVE clips per class to fit a head; features in ~0.2 s, with the raw level
    # ~2 s and 160 MB (its 360 AVE waveforms dominate)
    "tiny": WorldSizes(
        audio_dim=32, grid=2, channels=16, corpus_clips=120, ave_splits=(280, 40, 40), avvp_splits=(40, 12, 12), retrieval_clips=30, raw_clips=30
    ),
    # the default grid: small and fast on 2 CPU cores; features ~70 MB; raw level ~0.78 GB, as it
    # holds 2320 waveforms of 320 kB (AVE, AVVP, retrieval complete, 300 corpus clips); ~12-20 s
    "default": WorldSizes(
        audio_dim=128, grid=3, channels=32, corpus_clips=2000, ave_splits=(480, 60, 60), avvp_splits=(800, 120, 200), raw_clips=1000
    ),
    # real feature dims (VGGish 128, VGG19 pool5 7x7x512) and the real AVE / AVVP split sizes;
    # about 4 GB (AVE) + 12 GB (AVVP) + 10 GB (corpus) of float32 features, ~8 GB of raw level
    # (19000 waveforms of 320 kB, film strips of ~95 kB).
    # Frames are 64 x 64, not the 224 x 224 of real backbones: 12x less disk and rendering, and a
    # backbone resizes them anyway.
    "paper": WorldSizes(
        audio_dim=128,
        grid=7,
        channels=512,
        corpus_clips=10000,
        ave_splits=(3339, 402, 402),
        avvp_splits=(10000, 649, 1200),
        retrieval_clips=1000,
        frame_size=64,
        raw_clips=2000,
    ),
}


@dataclass(frozen=True)
class Noise:
    """Strengths of the generative model (shared by all profiles)."""

    instance_jitter: float = 0.4
    segment_jitter: float = 0.2
    nuisance: float = 0.6
    nuisance_drift: float = 0.3
    noise: float = 0.35
    blob_width: float = 0.25  # Gaussian sigma as a fraction of the grid side
    visual_gain: float = 2.0  # peak strength of an object's blob


# ---- public entry point -----------------------------------------------------------------


def ensure_world(directory: Path, profile: str, seed: int) -> Path:
    """The world folder for (profile, seed), generating it first if needed.

    Generation happens in a temporary sibling that is renamed to `directory` once complete, so a
    killed run leaves no half world, and when two processes race the first rename wins.
    """
    directory = Path(directory)
    if (directory / "COMPLETE").exists():
        return directory
    sizes = profile_sizes(profile)
    directory.parent.mkdir(parents=True, exist_ok=True)
    _remove_dead_temps(directory)
    tmp = Path(tempfile.mkdtemp(prefix=f"{_temp_prefix(directory)}{os.getpid()}-", dir=directory.parent))
    try:
        generate_world(tmp, sizes, seed)
        about = {"generator": GENERATOR_VERSION, "profile": profile, "seed": seed, "sizes": asdict(sizes)}
        (tmp / "COMPLETE").write_text(json.dumps(about, sort_keys=True) + "\n")
        os.chmod(tmp, 0o755)  # mkdtemp makes it private
        _publish(tmp, directory)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return directory


def profile_sizes(profile: str) -> WorldSizes:
    if profile not in PROFILES:
        raise UserError(f"unknown synthetic-world profile {profile!r}; use one of {', '.join(PROFILES)} (data.profile)")
    return PROFILES[profile]


def generate_world(root: Path, sizes: WorldSizes, seed: int, raw_level: bool = True) -> None:
    """Write corpus/, ave/, avvp/ and retrieval/ into `root` (no COMPLETE marker).

    raw_level=False skips the raw level (for feature-only uses such as tests; `ensure_world`
    always writes it); the feature level is the same either way.
    """
    world = _World.create(sizes, seed)
    ids = _IdMaker(_rng(seed, "ids"))
    for name, write in (("corpus", _write_corpus), ("ave", _write_ave), ("avvp", _write_avvp), ("retrieval", _write_retrieval)):
        write(root / name, world, ids, _rng(seed, name), _rng(seed, f"raw-{name}") if raw_level else None)


def _publish(tmp: Path, directory: Path) -> None:
    for _ in range(3):
        try:
            os.rename(tmp, directory)
            return
        except OSError:
            if (directory / "COMPLETE").exists():
                return  # a concurrent generation finished first
            if directory.exists():  # an incomplete folder from elsewhere: move it aside
                stale = Path(tempfile.mkdtemp(prefix=f"{_temp_prefix(directory)}stale-", dir=directory.parent))
                try:
                    os.rename(directory, stale / "old")
                except OSError:
                    pass
                shutil.rmtree(stale, ignore_errors=True)
    raise UserError(f"{directory}: could not move the generated synthetic world into place; check permissions of {directory.parent}")


def _temp_prefix(directory: Path) -> str:
    return f".{directory.name}.tmp-{socket.gethostname()}-"


def _remove_dead_temps(directory: Path) -> None:
    """Delete temp folders left by killed generations on this host (their pid no longer runs)."""
    prefix = _temp_prefix(directory)
    for path in directory.parent.iterdir():
        if not path.name.startswith(prefix):
            continue
        pid = path.name[len(prefix) :].split("-", 1)[0]
        if pid == "stale" or (pid.isdigit() and not _alive(int(pid))):
            shutil.rmtree(path, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _rng(seed: int, stream: str) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([int(seed) & 0xFFFFFFFF, zlib.crc32(stream.encode())]))


# ---- the fixed random maps -------------------------------------------------------------


@dataclass(frozen=True)
class _Mlp:
    w1: np.ndarray
    b1: np.ndarray
    w2: np.ndarray

    @classmethod
    def create(cls, rng: np.random.Generator, d_in: int, hidden: int, d_out: int) -> "_Mlp":
        w1 = rng.standard_normal((d_in, hidden), dtype=np.float32) * np.float32(1.5 / np.sqrt(d_in))
        b1 = rng.standard_normal(hidden, dtype=np.float32) * np.float32(0.5)
        w2 = rng.standard_normal((hidden, d_out), dtype=np.float32) * np.float32(1.6 / np.sqrt(hidden))
        return cls(w1, b1, w2)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return np.tanh(x @ self.w1 + self.b1) @ self.w2


@dataclass(frozen=True)
class _World:
    sizes: WorldSizes
    noise: Noise
    prototypes: np.ndarray  # [K, latent] over CORPUS_CLASSES
    audio: _Mlp
    visual: _Mlp  # latent -> C channel vector of an object
    audio_nuisance: _Mlp
    visual_nuisance: _Mlp  # nuisance latent -> H*W*C map
    looks: raw.Looks  # how each class sounds and looks at the raw level

    @classmethod
    def create(cls, sizes: WorldSizes, seed: int, noise: Noise = Noise()) -> "_World":
        rng = _rng(seed, "maps")
        s = sizes
        prototypes = rng.standard_normal((len(CORPUS_CLASSES), s.latent_dim), dtype=np.float32)
        return cls(
            sizes=s,
            noise=noise,
            prototypes=prototypes,
            audio=_Mlp.create(rng, s.latent_dim, s.hidden, s.audio_dim),
            visual=_Mlp.create(rng, s.latent_dim, s.hidden, s.channels),
            audio_nuisance=_Mlp.create(rng, s.nuisance_dim, s.hidden, s.audio_dim),
            visual_nuisance=_Mlp.create(rng, s.nuisance_dim, s.hidden, s.grid * s.grid * s.channels),
            looks=raw.Looks.create(prototypes, _rng(seed, "raw-looks")),
        )


# ---- events ------------------------------------------------------------------------------


@dataclass
class _Events:
    """E event slots for each of n clips; cls == -1 marks an empty slot."""

    cls: np.ndarray  # int64 [n, E], index into CORPUS_CLASSES
    audible: np.ndarray  # bool [n, E]
    visible: np.ndarray  # bool [n, E]
    onset: np.ndarray  # int64 [n, E]
    offset: np.ndarray  # int64 [n, E], exclusive
    gain: np.ndarray  # float32 [n, E]
    where: np.ndarray  # float32 [n, E, 2], blob centre (row, col) in grid cells

    def take(self, rows: slice) -> "_Events":
        return _Events(**{k: v[rows] for k, v in vars(self).items()})

    def active(self, segments: int) -> np.ndarray:
        """bool [n, E, T]: slot filled and onset <= t < offset."""
        t = np.arange(segments)
        return (self.cls[:, :, None] >= 0) & (t >= self.onset[:, :, None]) & (t < self.offset[:, :, None])


@dataclass(frozen=True)
class _EventSpec:
    classes: list[int]  # corpus indices to draw from
    weights: np.ndarray  # drawing weights over `classes`
    counts: tuple[float, ...]  # P(1 event), P(2 events), ...
    kinds: tuple[float, float, float]  # P(audio-visual), P(audio only), P(visual only)
    full: float  # P(an event spans the whole clip)
    min_len: int


def _sample_events(rng: np.random.Generator, n: int, spec: _EventSpec, sizes: WorldSizes) -> _Events:
    slots, T = len(spec.counts), sizes.segments
    cls = np.full((n, slots), -1, dtype=np.int64)
    count = rng.choice(np.arange(1, slots + 1), size=n, p=spec.counts)
    p = spec.weights / spec.weights.sum()
    for i in range(n):
        cls[i, : count[i]] = np.asarray(spec.classes)[rng.choice(len(spec.classes), size=count[i], replace=False, p=p)]
    kind = rng.choice(3, size=(n, slots), p=spec.kinds)
    length = rng.integers(spec.min_len, T, size=(n, slots), endpoint=False)
    length = np.where(rng.random((n, slots)) < spec.full, T, length)
    onset = (rng.random((n, slots)) * (T - length + 1)).astype(np.int64)
    return _Events(
        cls=cls,
        audible=(kind != 2) & (cls >= 0),
        visible=(kind != 1) & (cls >= 0),
        onset=onset,
        offset=onset + length,
        gain=rng.uniform(0.75, 1.25, size=(n, slots)).astype(np.float32),
        where=rng.uniform(0, sizes.grid - 1, size=(n, slots, 2)).astype(np.float32),
    )


# ---- rendering ---------------------------------------------------------------------------


def _render(world: _World, ev: _Events, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Audio [n, T, Da] and visual [n, T, H, W, C] float32 features of the clips of `ev`, and the
    events' instance latents [n, E, latent] (which the raw level renders too)."""
    s, nz = world.sizes, world.noise
    n, slots = ev.cls.shape
    T, G = s.segments, s.grid
    instance = world.prototypes[np.maximum(ev.cls, 0)] + nz.instance_jitter * rng.standard_normal((n, slots, s.latent_dim), dtype=np.float32)
    z = instance[:, :, None, :] + nz.segment_jitter * rng.standard_normal((n, slots, T, s.latent_dim), dtype=np.float32)
    on = ev.active(T) * ev.gain[:, :, None]  # [n, E, T]
    audio = np.einsum("net,netd->ntd", on * ev.audible[:, :, None], world.audio(z))
    audio += nz.nuisance * world.audio_nuisance(_nuisance_latents(rng, n, s, nz))
    audio += nz.noise * rng.standard_normal(audio.shape, dtype=np.float32)
    visual = np.zeros((n, T, G, G, s.channels), dtype=np.float32)
    channels = world.visual(z)  # [n, E, T, C]
    blobs = nz.visual_gain * _blobs(ev.where, G, nz.blob_width * G)  # [n, E, G, G]
    weight = on * ev.visible[:, :, None]
    for e in range(slots):
        visual += (weight[:, e, :, None, None, None] * blobs[:, e, None, :, :, None]) * channels[:, e, :, None, None, :]
    visual += nz.nuisance * world.visual_nuisance(_nuisance_latents(rng, n, s, nz)).reshape(n, T, G, G, s.channels)
    visual += nz.noise * rng.standard_normal(visual.shape, dtype=np.float32)
    return audio.astype(np.float32), visual, instance


def _nuisance_latents(rng: np.random.Generator, n: int, s: WorldSizes, nz: Noise) -> np.ndarray:
    """[n, T, nuisance_dim]: one latent per clip (recording conditions) drifting over segments."""
    clip = rng.standard_normal((n, 1, s.nuisance_dim), dtype=np.float32)
    return clip + nz.nuisance_drift * rng.standard_normal((n, s.segments, s.nuisance_dim), dtype=np.float32)


def _blobs(where: np.ndarray, grid: int, width: float) -> np.ndarray:
    """Gaussian blobs [n, E, G, G] with peak 1 centred at `where` (row, col)."""
    cells = np.arange(grid, dtype=np.float32)
    dr = (cells[None, None, :] - where[:, :, 0:1]) ** 2
    dc = (cells[None, None, :] - where[:, :, 1:2]) ** 2
    return np.exp(-(dr[:, :, :, None] + dc[:, :, None, :]) / np.float32(2 * width * width)).astype(np.float32)


Sink = Callable[[slice, np.ndarray, np.ndarray], None]
"""Receives (rows, audio features, visual features) of a chunk of clips."""


def _render_into(world: _World, ev: _Events, rng: np.random.Generator, sink: Sink, raw_sink: "_RawSink | None" = None) -> None:
    n = ev.cls.shape[0]
    for start in range(0, n, _CHUNK):
        rows = slice(start, min(n, start + _CHUNK))
        part = ev.take(rows)
        audio, visual, instance = _render(world, part, rng)
        sink(rows, audio, visual)
        if raw_sink is not None:
            raw_sink(rows, part, instance)


class _RawSink:
    """Renders and writes the raw level of the first `limit` clips, one chunk at a time.

    It draws only from its own generator, so the feature level is the same with or without it.
    """

    def __init__(self, world: _World, folder: Path, names: list[str], rng: np.random.Generator, limit: int | None = None) -> None:
        self.world, self.names, self.rng = world, names, rng
        self.limit = len(names) if limit is None else min(limit, len(names))
        self.writer = raw.RawWriter(folder)

    def __call__(self, rows: slice, ev: _Events, instance: np.ndarray) -> None:
        count = min(rows.stop, self.limit) - rows.start
        if count <= 0:
            return
        ev, instance = ev.take(slice(0, count)), instance[:count]
        w, s = self.world, self.world.sizes
        waves = raw.render_audio(w.looks, ev, instance, w.prototypes, s.segments, self.rng)
        frames, masks = raw.render_frames(w.looks, ev, instance, w.prototypes, s.segments, s.grid, s.frame_size, self.rng)
        for i, name in enumerate(self.names[rows.start : rows.start + count]):
            self.writer.write(name, waves[i], frames[i], masks[i])


def _raw_sink(world: _World, folder: Path, names: list[str], rng: np.random.Generator | None, limit: int | None = None) -> _RawSink | None:
    return None if rng is None else _RawSink(world, folder, names, rng, limit)


# ---- ids --------------------------------------------------------------------------------


class _IdMaker:
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


# ---- writers -----------------------------------------------------------------------------


def _h5_create(path: Path, key: str, shape: tuple[int, ...], dtype: Any = np.float32, attrs: dict | None = None) -> tuple[Any, Any]:
    """An open h5py file and its one dataset, written without timestamps (for identical bytes)."""
    import h5py

    f = h5py.File(path, "w", track_order=False)
    ds = f.create_dataset(key, shape=shape, dtype=dtype, track_times=False, fillvalue=0)
    for name, value in (attrs or {}).items():
        ds.attrs[name] = value
    return f, ds


def _h5_write(path: Path, key: str, data: np.ndarray, attrs: dict | None = None) -> None:
    f, ds = _h5_create(path, key, data.shape, data.dtype, attrs)
    with f:
        ds[...] = data


def _write_features(folder: Path, world: _World, ev: _Events, rng: np.random.Generator, raw_sink: _RawSink | None = None) -> None:
    s = world.sizes
    n = ev.cls.shape[0]
    fa, da = _h5_create(folder / "audio_feature.h5", "avadataset", (n, s.segments, s.audio_dim))
    fv, dv = _h5_create(folder / "visual_feature.h5", "avadataset", (n, s.segments, s.grid, s.grid, s.channels))
    with fa, fv:

        def sink(rows: slice, audio: np.ndarray, visual: np.ndarray) -> None:
            da[rows] = audio
            dv[rows] = visual

        _render_into(world, ev, rng, sink, raw_sink)


_CORPUS_SPEC = _EventSpec(list(range(len(CORPUS_CLASSES))), np.ones(len(CORPUS_CLASSES)), (0.5, 0.35, 0.15), (0.7, 0.15, 0.15), 0.4, 2)
_AVE_SPEC = _EventSpec([corpus_index(c) for c in AVE_CLASSES], np.ones(len(AVE_CLASSES)), (1.0,), (1.0, 0.0, 0.0), 0.66, 2)
_AVVP_SPEC = _EventSpec(
    [corpus_index(c) for c in AVVP_CLASSES],
    np.array([4.0 if c == "Speech" else 1.0 for c in AVVP_CLASSES]),  # speech is everywhere in LLP
    (0.45, 0.4, 0.15),
    (0.5, 0.35, 0.15),
    0.5,
    1,
)


def _write_corpus(folder: Path, world: _World, ids: _IdMaker, rng: np.random.Generator, raw_rng: np.random.Generator | None) -> None:
    _write_corpus_format(folder, world, ids, rng, raw_rng, world.sizes.corpus_clips, world.sizes.raw_clips)


def _write_retrieval(folder: Path, world: _World, ids: _IdMaker, rng: np.random.Generator, raw_rng: np.random.Generator | None) -> None:
    """Held-out clips in the corpus format: drawn like the corpus, with ids no other dataset has."""
    _write_corpus_format(folder, world, ids, rng, raw_rng, world.sizes.retrieval_clips, None)


def _write_corpus_format(
    folder: Path, world: _World, ids: _IdMaker, rng: np.random.Generator, raw_rng: np.random.Generator | None, count: int, raw_limit: int | None
) -> None:
    folder.mkdir(parents=True)
    s = world.sizes
    ev = _sample_events(rng, count, _CORPUS_SPEC, s)
    names = [ids() for _ in range(count)]
    (folder / "video_ids.txt").write_text("".join(f"{v}\n" for v in names))
    raw.write_captions(folder / "captions.tsv", names, ev)
    events = np.zeros((len(names), s.segments, len(CORPUS_CLASSES)), dtype=np.uint8)
    active = ev.active(s.segments)
    for e in range(ev.cls.shape[1]):
        code = (ev.audible[:, e] * 1 + ev.visible[:, e] * 2).astype(np.uint8)
        n_idx, t_idx = np.nonzero(active[:, e])
        events[n_idx, t_idx, ev.cls[n_idx, e]] |= code[n_idx]
    attrs = {"class_names": np.array(CORPUS_CLASSES, dtype=object), "encoding": "bit 0: audible, bit 1: visible, 0: inactive"}
    _h5_write(folder / "events.h5", "events", events, attrs)
    raw_sink = _raw_sink(world, folder, names, raw_rng, raw_limit)
    if raw_sink is not None:
        (folder / "raw" / "video_ids.txt").write_text("".join(f"{v}\n" for v in names[: raw_sink.limit]))
    _write_features(folder, world, ev, rng, raw_sink)


def _write_ave(folder: Path, world: _World, ids: _IdMaker, rng: np.random.Generator, raw_rng: np.random.Generator | None) -> None:
    from avtbench.data.ave import ANNOTATION_HEADER, AveAnnotation, ave_labels_from_annotations

    folder.mkdir(parents=True)
    s = world.sizes
    n = sum(s.ave_splits)
    ev = _sample_events(rng, n, _AVE_SPEC, s)
    # AVE classes are the first 28 corpus classes, so a corpus index is also the AVE label
    rows = [AveAnnotation(CORPUS_CLASSES[ev.cls[i, 0]], ids(), "good", int(ev.onset[i, 0]), int(ev.offset[i, 0])) for i in range(n)]
    lines = [ANNOTATION_HEADER] + [f"{r.category}&{r.video_id}&{r.quality}&{r.start}&{r.end}" for r in rows]
    (folder / "Annotations.txt").write_text("\n".join(lines) + "\n")
    names = [r.video_id for r in rows]
    raw.write_captions(folder / "captions.tsv", names, ev)
    _h5_write(folder / "labels.h5", "avadataset", ave_labels_from_annotations(rows, s.segments))
    order = rng.permutation(n).astype(np.int64)
    bounds = np.cumsum((0,) + s.ave_splits)
    for split, lo, hi in zip(("train", "val", "test"), bounds[:-1], bounds[1:]):
        _h5_write(folder / f"{split}_order.h5", "order", order[lo:hi])
    _write_features(folder, world, ev, rng, _raw_sink(world, folder, names, raw_rng))


def _write_avvp(folder: Path, world: _World, ids: _IdMaker, rng: np.random.Generator, raw_rng: np.random.Generator | None) -> None:
    s = world.sizes
    for sub in ("vggish", "vgg19"):
        (folder / "feats" / sub).mkdir(parents=True)
    eval_rows: dict[str, list[str]] = {"audio": [], "visual": []}
    caption_rows: list[str] = []
    for split, count in zip(("train", "val", "test"), s.avvp_splits):
        ev = _sample_events(rng, count, _AVVP_SPEC, s)
        names = [f"{ids()}_{start}_{start + s.segments}" for start in (10 * rng.integers(0, 30, size=count)).tolist()]
        weak, audio_rows, visual_rows = _avvp_rows(ev, names)
        (folder / _AVVP_FILES[split]).write_text("filename\tevent_labels\n" + "".join(f"{w}\n" for w in weak))
        if split != "train":
            eval_rows["audio"] += audio_rows
            eval_rows["visual"] += visual_rows
        caption_rows += [f"{name}\t{c}\n" for i, name in enumerate(names) for c in raw.captions(ev, i)]
        # raw files are named by the 11-char id, like the feature files
        _render_into(world, ev, rng, _npy_sink(folder / "feats", names), _raw_sink(world, folder, [v[:11] for v in names], raw_rng))
    (folder / "captions.tsv").write_text("video_id\tcaption\n" + "".join(caption_rows))
    for modality, rows in eval_rows.items():
        (folder / f"AVVP_eval_{modality}.csv").write_text("filename\tonset\toffset\tevent_labels\n" + "".join(f"{r}\n" for r in rows))


_AVVP_FILES = {"train": "AVVP_train.csv", "val": "AVVP_val_pd.csv", "test": "AVVP_test_pd.csv"}


def _avvp_rows(ev: _Events, names: list[str]) -> tuple[list[str], list[str], list[str]]:
    """Weak-label rows and audio / visual evaluation rows (one per event) of the clips."""
    avvp_name = {corpus_index(c): c for c in AVVP_CLASSES}
    weak, audio, visual = [], [], []
    for i, name in enumerate(names):
        filled = [e for e in range(ev.cls.shape[1]) if ev.cls[i, e] >= 0]
        weak.append(f"{name}\t{','.join(avvp_name[ev.cls[i, e]] for e in filled)}")
        for e in filled:
            row = f"{name}\t{ev.onset[i, e]}\t{ev.offset[i, e]}\t{avvp_name[ev.cls[i, e]]}"
            if ev.audible[i, e]:
                audio.append(row)
            if ev.visible[i, e]:
                visual.append(row)
    return weak, audio, visual


def _npy_sink(feats: Path, names: list[str]) -> Sink:
    """Writes per-video features named by the 11-char id, as the official AVVP loader expects."""

    def sink(rows: slice, audio: np.ndarray, visual: np.ndarray) -> None:
        for name, a, v in zip(names[rows], audio, visual):
            np.save(feats / "vggish" / f"{name[:11]}.npy", a)
            np.save(feats / "vgg19" / f"{name[:11]}.npy", v)

    return sink

"""The generative model of the synthetic world: fixed random maps from latent events to features.

See `world.py` for the model in words. Everything here is a pure function of its generators and
gives the same numbers on every host: products, `exp` and `tanh` go through `exact` (fixed-point
factors summed exactly in float64), sums over event slots are explicit loops, and the features are
computed in float64 and stored as float32 (generator version 6; version 5 used float32 BLAS
products and numpy's SIMD `exp` / `tanh`, which differ between CPUs and OpenBLAS kernels).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Protocol

import numpy as np

from avtbench.synth import exact, raw
from avtbench.synth.events import Events, stream_rng
from avtbench.synth.profiles import EASY, Knobs, WorldSizes
from avtbench.synth.vocab import EVENT_CLASSES

CHUNK = 64
"""Clips rendered at a time: bounds memory on the paper profile."""
BACKGROUNDS = 6
"""Background-sound latents (no class's): wind, traffic, a crowd..."""


class RawSink(Protocol):
    def __call__(self, rows: slice, ev: Events, instance: np.ndarray) -> None: ...


@dataclass(frozen=True)
class Mlp:
    w1: np.ndarray
    b1: np.ndarray
    w2: np.ndarray

    @classmethod
    def create(cls, rng: np.random.Generator, d_in: int, hidden: int, d_out: int) -> "Mlp":
        w1 = rng.standard_normal((d_in, hidden), dtype=np.float32) * np.float32(1.5 / np.sqrt(d_in))
        b1 = rng.standard_normal(hidden, dtype=np.float32) * np.float32(0.5)
        w2 = rng.standard_normal((hidden, d_out), dtype=np.float32) * np.float32(1.6 / np.sqrt(hidden))
        return cls(w1, b1, w2)

    def __call__(self, x: np.ndarray, gain: float = 1.0) -> np.ndarray:
        """float64 tanh(gain (x w1 + b1)) w2, the same on every host."""
        pre = exact.matmul(x, self.w1) + self.b1
        if gain != 1.0:
            pre *= np.float64(np.float32(gain))
        return exact.matmul(exact.tanh(pre), self.w2)


@dataclass(frozen=True)
class World:
    sizes: WorldSizes
    knobs: Knobs
    prototypes: np.ndarray  # [K, latent] over EVENT_CLASSES
    audio: Mlp
    visual: Mlp  # latent -> C channel vector of an object
    audio_nuisance: Mlp
    visual_nuisance: Mlp  # nuisance latent -> H*W*C map
    looks: raw.Looks  # how each class sounds and looks at the raw level
    backgrounds: np.ndarray  # [BACKGROUNDS, latent] latents of background sounds

    @classmethod
    def create(cls, sizes: WorldSizes, seed: int, knobs: Knobs = EASY) -> "World":
        rng = stream_rng(seed, "maps")
        s = sizes
        prototypes = rng.standard_normal((len(EVENT_CLASSES), s.latent_dim), dtype=np.float32)
        return cls(
            sizes=s,
            knobs=knobs,
            prototypes=prototypes,
            audio=Mlp.create(rng, s.latent_dim, s.hidden, s.audio_dim),
            visual=Mlp.create(rng, s.latent_dim, s.hidden, s.channels),
            audio_nuisance=Mlp.create(rng, s.nuisance_dim, s.hidden, s.audio_dim),
            visual_nuisance=Mlp.create(rng, s.nuisance_dim, s.hidden, s.grid * s.grid * s.channels),
            looks=raw.Looks.create(prototypes, stream_rng(seed, "raw-looks")),
            backgrounds=stream_rng(seed, "backgrounds").standard_normal((BACKGROUNDS, s.latent_dim), dtype=np.float32),
        )


def render_features(world: World, ev: Events, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Audio [n, T, Da] and visual [n, T, H, W, C] float32 features of the clips of `ev`, and the
    events' instance latents [n, E, latent] (which the raw level renders too)."""
    s, nz = world.sizes, world.knobs
    n, slots = ev.cls.shape
    T, G = s.segments, s.grid
    instance = world.prototypes[np.maximum(ev.cls, 0)] + nz.instance_jitter * rng.standard_normal((n, slots, s.latent_dim), dtype=np.float32)
    z = instance[:, :, None, :] + nz.segment_jitter * rng.standard_normal((n, slots, T, s.latent_dim), dtype=np.float32)
    on = ev.active(T) * ev.gain[:, :, None]  # [n, E, T]
    sounding = ev.audio_active(T) * ev.gain[:, :, None]
    z_audio, z_visual = z, z
    if nz.modality_jitter > 0:  # what an instance's look and sound do not share
        z_audio = z + nz.modality_jitter * rng.standard_normal((n, slots, 1, s.latent_dim), dtype=np.float32)
        z_visual = z + nz.modality_jitter * rng.standard_normal((n, slots, 1, s.latent_dim), dtype=np.float32)
    audio = exact.slot_sum(sounding, _sound(world, z_audio, ev.lag, nz.nonlinearity))
    audio += nz.nuisance * world.audio_nuisance(_nuisance_latents(rng, n, s, nz))
    audio += nz.noise * rng.standard_normal(audio.shape, dtype=np.float32)
    if nz.background > 0:
        audio += _background_sounds(world, rng, n)
    visual = np.zeros((n, T, G, G, s.channels), dtype=np.float64)
    channels = world.visual(z_visual, nz.nonlinearity)  # [n, E, T, C]
    blobs = nz.visual_gain * _blobs(ev.where, G, nz.blob_width * G)  # [n, E, G, G]
    weight = on * ev.visible[:, :, None]
    for e in range(slots):
        visual += (weight[:, e, :, None, None, None] * blobs[:, e, None, :, :, None]) * channels[:, e, :, None, None, :]
    visual += nz.nuisance * world.visual_nuisance(_nuisance_latents(rng, n, s, nz)).reshape(n, T, G, G, s.channels)
    visual += nz.noise * rng.standard_normal(visual.shape, dtype=np.float32)
    return audio.astype(np.float32), visual.astype(np.float32), instance


def _sound(world: World, z: np.ndarray, lag: np.ndarray, nonlinearity: float) -> np.ndarray:
    """[n, E, T, Da] each event's sound at each segment: its latent at t - lag (a lagging sound
    carries the picture's earlier latent), clipped to the clip's segments."""
    if not lag.any():
        return world.audio(z, nonlinearity)
    T = z.shape[2]
    source = np.clip(np.arange(T)[None, None, :] - lag[:, :, None], 0, T - 1)  # [n, E, T]
    shifted = np.take_along_axis(z, source[..., None], axis=2)
    return world.audio(shifted, nonlinearity)


def _background_sounds(world: World, rng: np.random.Generator, n: int) -> np.ndarray:
    """[n, T, Da] a background sound for a `background` share of the clips, zero for the rest."""
    s, nz = world.sizes, world.knobs
    present = rng.random(n) < nz.background
    which = rng.integers(0, len(world.backgrounds), size=n)
    b = world.backgrounds[which][:, None, :] + nz.segment_jitter * rng.standard_normal((n, s.segments, s.latent_dim), dtype=np.float32)
    level = nz.background_gain * rng.uniform(0.75, 1.25, size=n).astype(np.float32) * present
    return level[:, None, None] * world.audio(b, nz.nonlinearity)


def _nuisance_latents(rng: np.random.Generator, n: int, s: WorldSizes, nz: Knobs) -> np.ndarray:
    """[n, T, nuisance_dim]: one latent per clip (recording conditions) drifting over segments."""
    clip = rng.standard_normal((n, 1, s.nuisance_dim), dtype=np.float32)
    return clip + nz.nuisance_drift * rng.standard_normal((n, s.segments, s.nuisance_dim), dtype=np.float32)


def _blobs(where: np.ndarray, grid: int, width: float) -> np.ndarray:
    """Gaussian blobs [n, E, G, G] with peak 1 centred at `where` (row, col)."""
    cells = np.arange(grid, dtype=np.float32)
    dr = (cells[None, None, :] - where[:, :, 0:1]) ** 2
    dc = (cells[None, None, :] - where[:, :, 1:2]) ** 2
    return exact.exp(-(dr[:, :, :, None] + dc[:, :, None, :]) / np.float32(2 * width * width))


Sink = Callable[[slice, np.ndarray, np.ndarray], None]
"""Receives (rows, audio features, visual features) of a chunk of clips."""


def render_into(world: World, ev: Events, rng: np.random.Generator, sink: Sink, raw_sink: RawSink | None = None) -> None:
    n = ev.cls.shape[0]
    for start in range(0, n, CHUNK):
        rows = slice(start, min(n, start + CHUNK))
        part = ev.take(rows)
        audio, visual, instance = render_features(world, part, rng)
        sink(rows, audio, visual)
        if raw_sink is not None:
            raw_sink(rows, part, instance)

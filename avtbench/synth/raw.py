"""Raw level of the synthetic world: 16 kHz waveforms, RGB frames, object masks and captions.

Everything is rendered from the SAME latent events as the feature level (`world.py`): same
clips, same events, same segments, and the same instance latent z of each event, so every
label holds at both levels.

Audio, one second per segment, synthesised in the frequency domain at 1 Hz resolution (a
partial at a whole frequency then continues seamlessly from one segment to the next):
- each event class has a fixed signature derived from its prototype through fixed random
  projections: P partials f0 * p * (1 + b (p - 1)) (f0 in 120..1600 Hz, inharmonicity b, a
  spectral tilt), an amplitude modulation (sidebands at +-m Hz) and a band of coloured noise;
  the instance latent shifts the pitch by up to +-2 %, the event gain scales the level;
- every clip has nuisance sounds (two steady tones at random frequencies, a coloured noise with
  a per-clip tilt and a per-segment level drift) and a white noise floor. A segment without an
  audible event holds only these.
Frames, S x S RGB per segment: a per-clip background (colour gradient plus low-frequency
blotches, drifting per segment) and every visible, active object drawn as its class's shape,
colour and texture, centred where its feature-level blob is ((where + 0.5) * S / grid), with
radius 0.3 * S * gain (at 0.15 a tiny from-scratch CLIP learned the backgrounds, not the objects,
and the vip_ant built on it stayed at chance), larger objects first; pixel noise on top.
Masks, S x S uint8 per segment: 0 background, k where the k-th visible object of the clip is on
top (objects numbered from 1 in order of onset, then of event class index). An object is never
fully hidden: if it would be, its centre pixel is drawn on top.

Files (next to a dataset's feature files): raw/audio/<id>.wav (int16 PCM, mono, 16 kHz, T s),
raw/frames/<id>.png (the T frames side by side: S x (T*S) RGB), raw/masks/<id>.png (same
layout, mode L). Writers embed no time or metadata, so the bytes depend on the content only.
On request (`world.ensure_dataset(level="video")`), raw/video/<id>.mp4: the same frames and waveform
as H.264 + AAC videos, made from these files (`video.py`); lossy and not bit-stable across hosts,
so in no digest and in no array a method reads.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from avtbench.data.raw import film_strip, wav_bytes
from avtbench.data.raw import save_png as _save_png
from avtbench.synth import exact
from avtbench.synth.vocab import EVENT_CLASSES, PHRASES

if TYPE_CHECKING:
    from avtbench.synth.events import Events

SAMPLE_RATE = 16000
PARTIALS = 5
MAX_PARTIAL_HZ = 7000.0
SHAPES = ("disc", "square", "diamond", "triangle", "ring", "cross")
TEXTURES = ("solid", "stripes", "checker")

_TONE_LEVEL = 0.25  # sum of an event's partial amplitudes at gain 1
_BAND_LEVEL = 0.06  # rms of an event's noise band at gain 1 and noisiness 1
_NUISANCE_TONE = (0.01, 0.03)  # amplitude range of each nuisance tone
_NUISANCE_NOISE = 0.03  # rms of the coloured nuisance noise
_FLOOR = 0.005  # rms of the white noise floor
_PIXEL_NOISE = 5.0  # std of the pixel noise (0..255 scale)


def _squash(x: np.ndarray) -> np.ndarray:
    """Approximately the normal CDF: maps N(0, 1) projections to about uniform (0, 1)."""
    return 1.0 / (1.0 + exact.exp(-1.702 * x))


@dataclass(frozen=True)
class Looks:
    """How each event class sounds and looks (arrays over EVENT_CLASSES), fixed per world seed."""

    f0: np.ndarray  # [K] Hz
    inharmonicity: np.ndarray  # [K]
    tilt: np.ndarray  # [K] partial p has amplitude p ** -tilt
    am_rate: np.ndarray  # [K] whole Hz
    am_depth: np.ndarray  # [K]
    band_centre: np.ndarray  # [K] Hz
    band_octaves: np.ndarray  # [K] width (std) of the noise band in octaves
    noisiness: np.ndarray  # [K] level of the noise band relative to _BAND_LEVEL
    bands: np.ndarray  # float32 [K, bins] per-bin power share of the noise band (Gaussian in log frequency)
    colour: np.ndarray  # [K, 3] 0..255
    colour2: np.ndarray  # [K, 3] second colour of the texture
    shape: np.ndarray  # [K] index into SHAPES
    texture: np.ndarray  # [K] index into TEXTURES
    angle: np.ndarray  # [K] stripe angle, radians
    period: np.ndarray  # [K] texture period as a fraction of the frame side
    pitch_axis: np.ndarray  # [latent] instance latent direction that shifts the pitch
    shade_axis: np.ndarray  # [latent] instance latent direction that shades the colour

    @classmethod
    def create(cls, prototypes: np.ndarray, rng: np.random.Generator) -> "Looks":
        d = prototypes.shape[1]
        proj = rng.standard_normal((d, 14))
        u = _squash(exact.matmul(prototypes, proj / exact.norm(proj, axis=0)))  # [K, 14], about uniform
        colour = 30 + 210 * u[:, 9:12]
        axes = rng.standard_normal((2, d))
        band_centre, band_octaves = 300.0 * (6000.0 / 300.0) ** u[:, 5], 0.15 + 0.6 * u[:, 6]
        octave = np.log2(np.maximum(np.arange(SAMPLE_RATE // 2 + 1), 1.0))
        distance = (octave[None, :] - np.log2(band_centre)[:, None]) / band_octaves[:, None]
        return cls(
            f0=120.0 * (1600.0 / 120.0) ** u[:, 0],
            inharmonicity=0.08 * u[:, 1] ** 2,
            tilt=0.3 + 1.2 * u[:, 2],
            am_rate=np.round(2 + 10 * u[:, 3]),
            am_depth=0.8 * u[:, 4],
            band_centre=band_centre,
            band_octaves=band_octaves,
            noisiness=0.2 + 0.8 * u[:, 7],
            bands=_unit_power(exact.exp(-0.5 * distance**2)),
            colour=colour,
            colour2=np.where(u[:, 8:9] < 0.5, 0.45 * colour, 255 - 0.6 * (255 - colour)),
            shape=np.argmax(exact.matmul(prototypes, rng.standard_normal((d, len(SHAPES)))), axis=1),
            texture=np.argmax(exact.matmul(prototypes, rng.standard_normal((d, len(TEXTURES)))), axis=1),
            angle=np.pi * u[:, 12],
            period=0.12 + 0.18 * u[:, 13],
            pitch_axis=axes[0] / exact.norm(axes[0], axis=0),
            shade_axis=axes[1] / exact.norm(axes[1], axis=0),
        )

    def partials(self, k: np.ndarray, shift: np.ndarray | float = 1.0) -> tuple[np.ndarray, np.ndarray]:
        """Frequencies (Hz, whole) and amplitudes (summing to 1) [..., PARTIALS] of classes `k`."""
        p = np.arange(1, PARTIALS + 1, dtype=np.float64)
        f = (self.f0[k] * shift)[..., None] * p * (1 + self.inharmonicity[k][..., None] * (p - 1))
        f = np.round(f)
        amp = np.where(f <= MAX_PARTIAL_HZ, p ** -self.tilt[k][..., None], 0.0)
        return f, amp / amp.sum(-1, keepdims=True)


# ---- audio -------------------------------------------------------------------------------


def render_audio(looks: Looks, ev: "Events", z: np.ndarray, prototypes: np.ndarray, segments: int, rng: np.random.Generator) -> np.ndarray:
    """Waveforms float32 [n, segments * SAMPLE_RATE] in [-1, 1] of the clips of `ev`.

    z: the events' instance latents [n, E, latent], as drawn for the feature level.
    """
    n, slots = ev.cls.shape
    k = np.maximum(ev.cls, 0)
    on = ev.audio_active(segments)
    weight = on * ev.gain[:, :, None] * np.clip(1 + 0.1 * rng.standard_normal((n, slots, segments)), 0.7, 1.3)
    shift = 1 + 0.02 * exact.tanh(exact.matmul(z - prototypes[k], looks.pitch_axis[:, None])[..., 0])
    drift = exact.exp(0.3 * rng.standard_normal((n, segments)))  # level of the clip's nuisance per segment
    # noise: per segment, a mix of unit-power spectral shapes (the events' bands, the nuisance colour, the floor)
    levels = [(_BAND_LEVEL * looks.noisiness[k[:, e]][:, None] * weight[:, e]) ** 2 for e in range(slots)]
    levels += [(_NUISANCE_NOISE * drift) ** 2, np.full((n, segments), _FLOOR**2)]
    shapes = [looks.bands[k[:, e]] for e in range(slots)] + [_nuisance_colour(n, rng), _flat(n)]
    # [n, T, bins]: the sources' levels times their shapes, summed source by source (exact.slot_sum)
    power = exact.slot_sum(np.stack(levels, 1).astype(np.float32), np.stack(shapes, 1)[:, :, None, :]).astype(np.float32)
    spectrum = _noise_spectrum(power, rng)
    _add_event_tones(spectrum, looks, k, shift, weight, rng)
    _add_nuisance_tones(spectrum, drift, rng)
    spectrum[:, :, 0] = 0
    wave = np.fft.irfft(spectrum, n=SAMPLE_RATE, axis=-1).astype(np.float32, copy=False).reshape(n, segments * SAMPLE_RATE)
    return np.clip(wave, -1.0, 1.0, out=wave)


def _noise_spectrum(power: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """complex64 spectrum [..., bins] of a noise with the given per-bin power (mean square in time).

    Real and imaginary parts are uniform odd integers in [-255, 255] (mean 0, variance 21845),
    scaled: an inverse FFT sums thousands of them, so the waveform is Gaussian all the same, and
    random bytes cost a fraction of Gaussian draws.
    """
    bits = np.frombuffer(rng.bytes(2 * power.size), dtype=np.int8).reshape(*power.shape, 2)
    scale = np.sqrt(power)
    scale *= np.float32(SAMPLE_RATE / 2 / np.sqrt(21845.0))  # E|X|^2 = power * N^2 / 2 for a real signal of N samples
    noise = bits.astype(np.float32)
    noise *= 2 * scale[..., None]
    noise += scale[..., None]  # (2 * bits + 1) * scale
    return noise.view(np.complex64)[..., 0]


def _unit_power(envelope: np.ndarray) -> np.ndarray:
    """Per-bin share [.., bins] of a noise whose spectral magnitude follows `envelope` (sums to 1)."""
    p = envelope**2
    return (p / p.sum(-1, keepdims=True)).astype(np.float32)


def _flat(n: int) -> np.ndarray:
    bins = SAMPLE_RATE // 2 + 1
    return np.full((n, bins), 1.0 / (bins - 1), dtype=np.float32)


def _nuisance_colour(n: int, rng: np.random.Generator) -> np.ndarray:
    """[n, bins] unit-power shapes of the clips' nuisance noise: power ~ 1 / f ** tilt, tilt per clip."""
    tilt = rng.uniform(0.5, 2.0, size=n).astype(np.float32)
    log_f = np.log(np.maximum(np.arange(SAMPLE_RATE // 2 + 1, dtype=np.float32), 1.0))
    return _unit_power(exact.exp(-tilt[:, None] / 2 * log_f[None, :]))


def _add_event_tones(
    spectrum: np.ndarray, looks: Looks, k: np.ndarray, shift: np.ndarray, weight: np.ndarray, rng: np.random.Generator
) -> None:
    """Each event's partials and their AM sidebands (carrier, f - m, f + m) into the spectrum."""
    n, slots, segments = weight.shape
    f, amp = looks.partials(k, shift)  # [n, E, P]
    m, d = looks.am_rate[k][..., None], looks.am_depth[k][..., None]
    where = np.stack([f, f - m, f + m], -1).reshape(n, slots, 1, -1).astype(np.int64)
    amp3 = (amp[..., None] * np.stack([np.ones_like(d), d / 2, d / 2], -1)).reshape(n, slots, 1, -1)
    phase = np.exp(2j * np.pi * rng.random(amp3.shape))
    values = (weight[..., None] * _TONE_LEVEL * amp3 * phase * (SAMPLE_RATE / 2)).astype(np.complex64)  # [n, E, T, 3P]
    where = np.clip(where, 1, spectrum.shape[-1] - 1)
    clip, seg = np.arange(n)[:, None], np.arange(segments)[None, :]
    for e in range(slots):  # one (slot, line) at a time: no index repeats within an assignment
        for q in range(where.shape[-1]):
            spectrum[clip, seg, where[:, e, :, q]] += values[:, e, :, q]


def _add_nuisance_tones(spectrum: np.ndarray, drift: np.ndarray, rng: np.random.Generator) -> None:
    """Two steady tones per clip at random whole frequencies, their level drifting with the clip's nuisance."""
    n = spectrum.shape[0]
    tone_hz = rng.integers(60, 4000, size=(n, 2))
    tone = rng.uniform(*_NUISANCE_TONE, size=(n, 2)) * np.exp(2j * np.pi * rng.random((n, 2))) * (SAMPLE_RATE / 2)
    for j in range(2):
        spectrum[np.arange(n), :, tone_hz[:, j]] += (tone[:, j, None] * drift).astype(np.complex64)


# ---- frames and masks --------------------------------------------------------------------


def object_order(ev: "Events") -> np.ndarray:
    """int [n, E]: 1-based number of each visible object of its clip (onset, then class order); 0 if not visible."""
    n, slots = ev.cls.shape
    visible = ev.visible & (ev.cls >= 0)
    key = np.where(visible, ev.onset * 10_000 + ev.cls, np.iinfo(np.int64).max)
    rank = np.argsort(np.argsort(key, axis=1, kind="stable"), axis=1, kind="stable")
    return np.where(visible, rank + 1, 0)


def render_frames(
    looks: Looks, ev: "Events", z: np.ndarray, prototypes: np.ndarray, segments: int, grid: int, size: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Frames uint8 [n, T, S, S, 3] and masks uint8 [n, T, S, S] of the clips of `ev` (S = size)."""
    n, slots = ev.cls.shape
    frames = _background(n, segments, size, rng)
    masks = np.zeros((n, segments, size, size), dtype=np.uint8)
    k = np.maximum(ev.cls, 0)
    label = object_order(ev)
    on = ev.active(segments) & (label > 0)[:, :, None]  # [n, E, T]
    radius = size * 0.3 * ev.gain  # [n, E]
    shapes = _shape_masks(looks.shape[k], (ev.where + 0.5) * size / grid, radius, size)  # [n, E, S, S]
    shade = 1 + 0.08 * exact.tanh(exact.matmul(z - prototypes[k], looks.shade_axis[:, None])[..., 0])
    textures = _textures(looks, k, size) * shade[:, :, None, None, None]  # [n, E, S, S, 3]
    rows = np.arange(n)
    for step in range(slots):  # larger objects first, so that a smaller one stays visible on top
        e = np.argsort(-np.where(label > 0, radius, -1.0), axis=1, kind="stable")[:, step]
        drawn = shapes[rows, e][:, None] & on[rows, e][:, :, None, None]  # [n, T, S, S]
        frames = np.where(drawn[..., None], textures[rows, e][:, None], frames)
        masks = np.where(drawn, label[rows, e][:, None, None, None].astype(np.uint8), masks)
    _unhide(frames, masks, textures, label, on, (ev.where + 0.5) * size / grid)
    frames = frames + _PIXEL_NOISE * rng.standard_normal(frames.shape, dtype=np.float32)
    return np.clip(np.round(frames), 0, 255).astype(np.uint8), masks


def _background(n: int, segments: int, size: int, rng: np.random.Generator) -> np.ndarray:
    """float32 [n, T, S, S, 3]: a colour gradient plus low-frequency blotches, drifting per segment."""
    pix = np.arange(size, dtype=np.float32) + 0.5
    c0, c1 = rng.uniform(40, 200, size=(2, n, 1, 1, 3)).astype(np.float32)
    angle = rng.uniform(0, 2 * np.pi, size=(n, 1, 1)).astype(np.float32)
    ramp = ((pix[None, None, :] - size / 2) * np.cos(angle) + (pix[None, :, None] - size / 2) * np.sin(angle)) / size + 0.5
    coarse = rng.normal(0, 18, size=(n, 4, 4)).astype(np.float32)
    up = _interpolation(4, size)
    blotches = exact.matmul(exact.matmul(up, coarse), up.T).astype(np.float32)
    image = c0 + (c1 - c0) * ramp[..., None] + blotches[..., None]  # [n, S, S, 3]
    drift = np.cumsum(rng.normal(0, 6, size=(n, segments, 3)), axis=1).astype(np.float32)
    return image[:, None] + drift[:, :, None, None, :]


def _interpolation(coarse: int, size: int) -> np.ndarray:
    """[size, coarse] linear interpolation weights from a coarse grid to `size` pixels."""
    pos = np.clip((np.arange(size) + 0.5) * coarse / size - 0.5, 0, coarse - 1)
    lo = np.minimum(np.floor(pos).astype(int), coarse - 2)
    frac = pos - lo
    weights = np.zeros((size, coarse), dtype=np.float32)
    weights[np.arange(size), lo] = 1 - frac
    weights[np.arange(size), lo + 1] += frac
    return weights


def _shape_masks(shape: np.ndarray, centre: np.ndarray, radius: np.ndarray, size: int) -> np.ndarray:
    """bool [n, E, S, S]: pixels covered by each object's shape."""
    pix = np.arange(size, dtype=np.float32) + 0.5
    dy = (pix[None, None, :, None] - centre[:, :, 0, None, None]) / radius[:, :, None, None]
    dx = (pix[None, None, None, :] - centre[:, :, 1, None, None]) / radius[:, :, None, None]
    r = np.sqrt(dx**2 + dy**2)
    ax, ay = np.abs(dx), np.abs(dy)
    options = {
        "disc": r <= 1.0,
        "square": np.maximum(ax, ay) <= 0.85,
        "diamond": ax + ay <= 1.2,
        "triangle": (dy >= -0.95) & (dy <= 0.8) & (ax <= (dy + 0.95) / 1.6),
        "ring": (r >= 0.55) & (r <= 1.05),
        "cross": ((ax <= 0.35) & (ay <= 1.0)) | ((ay <= 0.35) & (ax <= 1.0)),
    }
    covered = np.zeros(dx.shape[:2] + (size, size), dtype=bool)
    for index, name in enumerate(SHAPES):
        covered |= (shape == index)[:, :, None, None] & options[name]
    return covered


def _textures(looks: Looks, k: np.ndarray, size: int) -> np.ndarray:
    """float32 [n, E, S, S, 3]: each object's class texture over the whole frame (cut by its shape)."""
    pix = np.arange(size, dtype=np.float32)
    period = looks.period[k][:, :, None, None] * size
    angle = looks.angle[k][:, :, None, None]
    along = pix[None, None, None, :] * np.cos(angle) + pix[None, None, :, None] * np.sin(angle)
    stripes = np.sin(2 * np.pi * along / period) > 0
    checker = ((pix[None, None, :, None] // (period / 2)) + (pix[None, None, None, :] // (period / 2))) % 2 == 1
    texture = looks.texture[k][:, :, None, None]
    second = np.where(texture == 1, stripes, np.where(texture == 2, checker, False))
    return np.where(second[..., None], looks.colour2[k][:, :, None, None, :], looks.colour[k][:, :, None, None, :]).astype(np.float32)


def _unhide(frames: np.ndarray, masks: np.ndarray, textures: np.ndarray, label: np.ndarray, on: np.ndarray, centre: np.ndarray) -> None:
    """Draw the centre pixel of any active visible object that others covered completely."""
    size = masks.shape[-1]
    present = (masks[:, None] == label[:, :, None, None, None]).any(axis=(3, 4))  # [n, E, T]
    for i, e, t in np.argwhere(on & ~present):
        r, c = np.clip(centre[i, e].astype(int), 0, size - 1)
        masks[i, t, r, c] = label[i, e]
        frames[i, t, r, c] = textures[i, e, r, c]


# ---- captions ----------------------------------------------------------------------------


def captions(ev: "Events", row: int) -> list[str]:
    """Three paraphrases naming every event of clip `row` in order of onset (the first is the classic one)."""
    slots = [e for e in np.argsort(ev.onset[row], kind="stable") if ev.cls[row, e] >= 0]
    p = [PHRASES[EVENT_CLASSES[ev.cls[row, e]]] for e in slots]
    if len(p) == 1:
        return [p[0], f"a video of {p[0]}", f"a short clip with {p[0]}"]
    if len(p) == 2:
        a, b = slots
        if ev.onset[row, b] < ev.offset[row, a]:  # they overlap
            return [f"{p[0]} along with {p[1]}", f"a video of {p[0]} and {p[1]} at the same time", f"a short clip with {p[0]} and {p[1]} together"]
        return [f"{p[0]}, then {p[1]}", f"a video of {p[0]} followed by {p[1]}", f"a short clip with {p[0]} and later {p[1]}"]
    listed = ", ".join(p[:-1]) + " and " + p[-1]
    return [listed, f"a video of {listed}", f"a short clip with {listed}"]


def write_captions(path: Path, names: list[str], ev: "Events") -> None:
    """`video_id<TAB>caption`, with a header and one row per caption (several rows per clip)."""
    rows = [f"{name}\t{c}\n" for i, name in enumerate(names) for c in captions(ev, i)]
    path.write_text("video_id\tcaption\n" + "".join(rows))


# ---- files -------------------------------------------------------------------------------


class RawWriter:
    """Writes raw/audio/<id>.wav, raw/frames/<id>.png and raw/masks/<id>.png under a dataset folder."""

    def __init__(self, dataset: Path) -> None:
        self.root = dataset / "raw"
        for sub in ("audio", "frames", "masks"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)

    def write(self, name: str, wave: np.ndarray, frames: np.ndarray, masks: np.ndarray) -> None:
        (self.root / "audio" / f"{name}.wav").write_bytes(wav_bytes(wave))
        _save_png(self.root / "frames" / f"{name}.png", film_strip(frames))
        _save_png(self.root / "masks" / f"{name}.png", film_strip(masks))

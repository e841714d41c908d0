"""The raw level of a dataset (waveforms, frames, object masks), shared by the dataset readers.

Files under the dataset folder, one of each per clip:
    raw/audio/<id>.wav    mono, 16 kHz, exactly T seconds (any PCM or float subtype soundfile reads)
    raw/frames/<id>.png   a film strip: the T one-second frames (S x S) side by side, S x (T*S) pixels;
                          RGB (grey, palette or RGBA images are converted to RGB)
    raw/masks/<id>.png    optional (the whole folder): same layout, 8-bit grey (mode L), 0 background,
                          k for the k-th object of the clip
Every bad file becomes a one-line UserError naming it. The arrays are lazy (`RowArray`s): a clip's
files are read when its row is, and checked then; only their presence, and the first clip's
length and frame size, are checked up front.

The writing side (`wav_bytes`, `film_strip`, `save_png`, `write_raw_clip`) is what the synthetic
world and `avtbench extract --raw` write these files with: PNGs and WAVs without time or text
chunks, so that equal samples and pixels give equal bytes.
"""
from __future__ import annotations

import io
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from avtbench.api import UserError
from avtbench.data.rows import PerClipRows, RowArray
from avtbench.layout import ClipFiles

SAMPLE_RATE = 16000


@dataclass
class RawLevel:
    audio: RowArray  # float32 [N, T * SAMPLE_RATE] in [-1, 1]
    visual: RowArray  # uint8 [N, T, S, S, 3]
    masks: RowArray | None  # uint8 [N, T, S, S], when the dataset has raw/masks/


def raw_fix(dataset: str) -> str:
    """How to provide the raw level (the end of an error message)."""
    return (
        f"the raw level needs the {dataset} dataset's raw files, raw/audio/<id>.wav (mono 16 kHz, the clip's length) and "
        "raw/frames/<id>.png (one frame per second, the S x S frames side by side) for every clip: extract them from the "
        "videos (e.g. ffmpeg -i <id>.mp4 -ac 1 -ar 16000 raw/audio/<id>.wav, and -vf fps=1 for the frames), "
        "or use a method that reads features; in a synthetic world, delete the world folder to regenerate it"
    )


def read_raw(
    root: Path, names: list[str], dataset: str, segments: int | None = None, file_names: Callable[[str], list[str]] | None = None
) -> RawLevel:
    """The raw level of the clips `names` of the dataset at `root`.

    segments: T, or None to take it from the first waveform (whole seconds).
    file_names: the file stems to try for a clip, in order (default: the clip id itself).
    """
    fix = raw_fix(dataset)
    stems = file_names or (lambda name: [name])
    folder = Path(root) / "raw"
    if not names:
        raise UserError(f"no clips to read the raw level of; {fix}")
    wavs = [_find(folder / "audio", stems(name), ".wav", fix) for name in names]
    pngs = [_find(folder / "frames", stems(name), ".png", fix) for name in names]
    segments = segments or _whole_seconds(wavs[0], read_wave(wavs[0], fix), fix)
    size = _read_png(pngs[0], "RGB", fix).shape[0]
    audio = PerClipRows(_Waves(wavs, segments, fix), len(names), (segments * SAMPLE_RATE,), np.float32)
    visual = PerClipRows(_Strips(pngs, segments, size, "RGB", fix), len(names), (segments, size, size, 3), np.uint8)
    masks = None
    if (folder / "masks").is_dir():
        paths = [_find(folder / "masks", stems(name), ".png", fix) for name in names]
        masks = PerClipRows(_Strips(paths, segments, size, "L", fix), len(names), (segments, size, size), np.uint8)
    return RawLevel(audio=audio, visual=visual, masks=masks)


def raw_files(root: Path, names: list[str], file_names: Callable[[str], list[str]] | None = None) -> tuple[ClipFiles, ...]:
    """The raw level's per-clip files of the clips `names` (for a dataset's `layout`, `avtbench.layout`):
    waveforms, frames and, where raw/masks/ exists, masks; none when the dataset has no raw/ folder.
    A clip's file is the first of its `file_names` stems that exists (else the first stem)."""
    folder = Path(root) / "raw"
    if not folder.is_dir():
        return ()
    stems = file_names or (lambda name: [name])
    kinds = [("raw audio", "audio", ".wav"), ("raw frames", "frames", ".png")]
    if (folder / "masks").is_dir():
        kinds.append(("raw masks", "masks", ".png"))
    found = []
    for kind, sub, suffix in kinds:
        present = set(os.listdir(folder / sub)) if (folder / sub).is_dir() else set()
        paths = [folder / sub / next((s + suffix for s in stems(n) if s + suffix in present), stems(n)[0] + suffix)
                 for n in names]
        found.append(ClipFiles(kind, folder / sub, tuple(paths), f"*{suffix}"))
    return tuple(found)


@dataclass(frozen=True)
class _Waves:
    """Row i: the waveform of paths[i], checked to be `segments` seconds long."""

    paths: list[Path]
    segments: int
    fix: str

    def __call__(self, row: int) -> np.ndarray:
        path, expected = self.paths[row], self.segments * SAMPLE_RATE
        wave = read_wave(path, self.fix)
        if wave.shape[0] != expected:
            raise UserError(
                f"{path}: {wave.shape[0]} samples ({wave.shape[0] / SAMPLE_RATE:g} s), expected {expected} "
                f"({self.segments} s at 16 kHz): truncated or of another length; {self.fix}"
            )
        return wave


@dataclass(frozen=True)
class _Strips:
    """Row i: the frames [T, S, S(, 3)] of the film strip paths[i], checked to be T frames of S x S."""

    paths: list[Path]
    segments: int
    size: int
    mode: str
    fix: str

    def __call__(self, row: int) -> np.ndarray:
        path, size, segments = self.paths[row], self.size, self.segments
        strip = _read_png(path, self.mode, self.fix)
        if strip.shape[:2] != (size, segments * size):
            raise UserError(
                f"{path}: image is {strip.shape[1]}x{strip.shape[0]} pixels, expected {segments * size}x{size} "
                f"(the {segments} frames of {size}x{size} side by side); {self.fix}"
            )
        return np.swapaxes(strip.reshape(size, segments, size, *strip.shape[2:]), 0, 1)


def _find(folder: Path, stems: list[str], suffix: str, fix: str) -> Path:
    for stem in stems:
        path = folder / f"{stem}{suffix}"
        if path.is_file():
            return path
    others = f" (nor {', '.join(s + suffix for s in stems[1:])})" if len(stems) > 1 else ""
    raise UserError(f"{folder / (stems[0] + suffix)}: file not found{others}; {fix}")


def read_wave(path: Path, fix: str, format_fix: str | None = None) -> np.ndarray:
    """The waveform of a mono 16 kHz audio file (any PCM or float subtype soundfile reads), float32
    [samples] in [-1, 1]. An unreadable file, or one of another rate or channel count, is a one-line
    `UserError` naming it and ending in `fix` (in `format_fix`, when given, for the rate or channels)."""
    import soundfile

    try:
        wave, rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    except (RuntimeError, OSError, ValueError, TypeError, EOFError) as exc:
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise UserError(f"{path}: unreadable audio file ({detail}); {fix}") from None
    if rate != SAMPLE_RATE or wave.shape[1] != 1:
        raise UserError(f"{path}: {wave.shape[1]} channel(s) at {rate} Hz, expected mono at {SAMPLE_RATE} Hz; "
                        f"{format_fix or fix}")
    return wave[:, 0]


def _whole_seconds(path: Path, wave: np.ndarray, fix: str) -> int:
    if wave.shape[0] == 0 or wave.shape[0] % SAMPLE_RATE:
        raise UserError(f"{path}: {wave.shape[0]} samples is not a whole number of seconds at 16 kHz; {fix}")
    return wave.shape[0] // SAMPLE_RATE


def _read_png(path: Path, mode: str, fix: str) -> np.ndarray:
    from PIL import Image

    try:
        with Image.open(path) as image:
            image.load()
            if image.mode != mode:
                if mode == "L":  # label values: no conversion would keep them
                    raise UserError(f"{path}: mask image has mode {image.mode}, expected 8-bit grey (mode L); {fix}")
                image = image.convert(mode)
            return np.asarray(image, dtype=np.uint8)
    except UserError:
        raise
    except (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError) as exc:
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise UserError(f"{path}: unreadable or truncated PNG ({detail}); {fix}") from None


# ---- writing -----------------------------------------------------------------------------------


def wav_bytes(wave: np.ndarray) -> bytes:
    """A mono 16 kHz int16 PCM .wav of `wave` (float in [-1, 1]).

    Written to memory: libsndfile syncs a real file to disk on close, which costs more than the rest.
    """
    import soundfile

    pcm = np.round(np.clip(wave, -1.0, 1.0) * 32767).astype(np.int16)
    buffer = io.BytesIO()
    soundfile.write(buffer, pcm, SAMPLE_RATE, subtype="PCM_16", format="WAV")
    return buffer.getvalue()


def film_strip(frames: np.ndarray) -> np.ndarray:
    """[T, S, S, ...] -> [S, T*S, ...]: the frames side by side."""
    t, s = frames.shape[:2]
    return np.ascontiguousarray(np.swapaxes(frames, 0, 1).reshape(s, t * s, *frames.shape[3:]))


def save_png(path: Path, image: np.ndarray) -> None:
    """PNG with no ancillary chunks (no time, no text), so equal pixels give equal bytes."""
    from PIL import Image

    Image.fromarray(image).save(path, format="PNG", optimize=False, compress_level=1)


def write_raw_clip(folder: Path, name: str, wave: np.ndarray | None, frames: np.ndarray | None) -> None:
    """One clip's raw files under `folder` (a dataset's raw/): audio/<name>.wav from `wave` (float
    [T * 16000]) and frames/<name>.png from `frames` (uint8 [T, S, S, 3]), each written under a
    hidden temporary name and renamed, so a killed writer leaves no half file under a final name."""
    for sub, suffix, value in (("audio", ".wav", wave), ("frames", ".png", frames)):
        if value is None:
            continue
        target = Path(folder) / sub / f"{name}{suffix}"
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.part")
        if sub == "audio":
            tmp.write_bytes(wav_bytes(value))
        else:
            save_png(tmp, film_strip(np.asarray(value, dtype=np.uint8)))
        os.replace(tmp, target)

"""The raw level of a dataset (waveforms, frames, object masks), shared by the dataset readers.

Files under the dataset folder, one of each per clip:
    raw/audio/<id>.wav    mono, 16 kHz, exactly T seconds (any PCM or float subtype soundfile reads)
    raw/frames/<id>.png   a film strip: the T one-second frames (S x S) side by side, S x (T*S) pixels;
                          RGB (grey, palette or RGBA images are converted to RGB)
    raw/masks/<id>.png    optional (the whole folder): same layout, 8-bit grey (mode L), 0 background,
                          k for the k-th object of the clip
Every bad file becomes a one-line UserError naming it.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from avtbench.api import UserError

SAMPLE_RATE = 16000


@dataclass
class RawLevel:
    audio: np.ndarray  # float32 [N, T * SAMPLE_RATE] in [-1, 1]
    visual: np.ndarray  # uint8 [N, T, S, S, 3]
    masks: np.ndarray | None  # uint8 [N, T, S, S], when the dataset has raw/masks/


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
    wavs = [_find(folder / "audio", stems(name), ".wav", fix) for name in names]
    pngs = [_find(folder / "frames", stems(name), ".png", fix) for name in names]
    audio = _read_waves(wavs, segments, fix)
    segments = audio.shape[1] // SAMPLE_RATE
    visual = _read_strips(pngs, segments, "RGB", fix)
    masks = None
    if (folder / "masks").is_dir():
        paths = [_find(folder / "masks", stems(name), ".png", fix) for name in names]
        masks = _read_strips(paths, segments, "L", fix, size=visual.shape[2])
    return RawLevel(audio=audio, visual=visual, masks=masks)


def _find(folder: Path, stems: list[str], suffix: str, fix: str) -> Path:
    for stem in stems:
        path = folder / f"{stem}{suffix}"
        if path.is_file():
            return path
    others = f" (nor {', '.join(s + suffix for s in stems[1:])})" if len(stems) > 1 else ""
    raise UserError(f"{folder / (stems[0] + suffix)}: file not found{others}; {fix}")


def _read_waves(paths: list[Path], segments: int | None, fix: str) -> np.ndarray:
    audio: np.ndarray | None = None
    for i, path in enumerate(paths):
        wave = _read_wave(path, fix)
        if audio is None:
            segments = segments or _whole_seconds(path, wave, fix)
            audio = np.empty((len(paths), segments * SAMPLE_RATE), dtype=np.float32)
        if wave.shape[0] != audio.shape[1]:
            raise UserError(
                f"{path}: {wave.shape[0]} samples ({wave.shape[0] / SAMPLE_RATE:g} s), expected {audio.shape[1]} "
                f"({segments} s at 16 kHz): truncated or of another length; {fix}"
            )
        audio[i] = wave
    if audio is None:
        raise UserError(f"no clips to read the raw level of; {fix}")
    return audio


def _read_wave(path: Path, fix: str) -> np.ndarray:
    import soundfile

    try:
        wave, rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    except (RuntimeError, OSError, ValueError, TypeError, EOFError) as exc:
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise UserError(f"{path}: unreadable audio file ({detail}); {fix}") from None
    if rate != SAMPLE_RATE or wave.shape[1] != 1:
        raise UserError(f"{path}: {wave.shape[1]} channel(s) at {rate} Hz, expected mono at {SAMPLE_RATE} Hz; {fix}")
    return wave[:, 0]


def _whole_seconds(path: Path, wave: np.ndarray, fix: str) -> int:
    if wave.shape[0] == 0 or wave.shape[0] % SAMPLE_RATE:
        raise UserError(f"{path}: {wave.shape[0]} samples is not a whole number of seconds at 16 kHz; {fix}")
    return wave.shape[0] // SAMPLE_RATE


def _read_strips(paths: list[Path], segments: int, mode: str, fix: str, size: int | None = None) -> np.ndarray:
    """uint8 [N, T, S, S(, 3)] from film strips S x (T*S); S from the first strip unless given."""
    out: np.ndarray | None = None
    for i, path in enumerate(paths):
        strip = _read_png(path, mode, fix)
        height, width = strip.shape[:2]
        size = size or height
        if (height, width) != (size, segments * size):
            raise UserError(
                f"{path}: image is {width}x{height} pixels, expected {segments * size}x{size} "
                f"(the {segments} frames of {size}x{size} side by side); {fix}"
            )
        if out is None:
            out = np.empty((len(paths), segments, size, size, *strip.shape[2:]), dtype=np.uint8)
        out[i] = np.swapaxes(strip.reshape(size, segments, size, *strip.shape[2:]), 0, 1)
    assert out is not None
    return out


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

"""What `avtbench extract` does to one video, wherever it runs (this process, a worker process of
`--workers`, a Ray actor of `--executor ray`): decode it (`videoread.decode`), run the layout's
extractors on it, make its raw level (the 16 kHz wave with `--raw`; one frame a second, square, where
the layout or `--raw` wants them), or say in one line why the video cannot be used.

Everything a worker needs travels as plain data (`ClipSpec`: the extractors' classes and configs,
the clip length, the frame recipe) and a `Worker` builds the extractors once, so that any process on
any node that has the same packages gives the same rows.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from avtbench.errors import UserError
from avtbench.extraction import FrameRecipe, RawClip

RAW_RATE = 16000
"""The raw level's sample rate (`avtbench.data.raw`)."""


@dataclass(frozen=True)
class ExtractorSpec:
    """An extractor as a worker rebuilds it: its class, its config, the device."""

    cls: type
    config: Any
    device: str

    def build(self) -> Any:
        return self.cls(self.config, self.device)


@dataclass(frozen=True)
class ClipSpec:
    """One extraction's work on a video: the first `seconds` s, features of `extractors` (modality ->
    spec), the 16 kHz wave when `raw_wave`, one frame a second by `frames` (None: none) of side `frame_size`."""

    seconds: int
    extractors: dict[str, ExtractorSpec]
    raw_wave: bool = False
    frames: FrameRecipe | None = None
    frame_size: int = 224


@dataclass
class VideoResult:
    """`status` "ok" with the rows (modality -> [seconds, ...]) and the raw level, or why skipped (a
    status of `videoread.Unusable`, or "failed") and one line."""

    status: str
    message: str = ""
    rows: dict[str, np.ndarray] | None = None
    raw: RawClip | None = None


class Worker:
    """A clip's extractors, built once (or given, built already), and what they make of a video."""

    def __init__(self, clip: ClipSpec, built: dict[str, Any] | None = None, threads: int | None = None) -> None:
        if threads:
            try:
                import torch

                torch.set_num_threads(threads)
            except ImportError:
                pass
        self.clip = clip
        self.built = built if built is not None else {m: build(s) for m, s in clip.extractors.items()}

    def ready(self) -> bool:
        """True once built (a Ray actor's constructor error shows here)."""
        return True

    def run(self, path: Path) -> VideoResult:
        return extract_one(path, self.clip, self.built)


def extract_one(path: Path, clip: ClipSpec, built: dict[str, Any]) -> VideoResult:
    """The rows and raw level of `path`, or why it cannot be used."""
    from avtbench.videoread import Unusable, decode

    audio, visual = built.get("audio"), built.get("visual")
    rates = ((int(audio.sample_rate),) if audio is not None else ()) + ((RAW_RATE,) if clip.raw_wave else ())
    fps = int(visual.frames_per_second) if visual is not None else None
    phase = clip.frames.phase if clip.frames is not None else None
    try:
        decoded = decode(path, clip.seconds, rates, fps, phase)
    except Unusable as exc:
        return VideoResult(exc.status, exc.message)
    rows = {}
    try:
        if audio is not None:
            rows["audio"] = np.asarray(audio.features(decoded.waves[int(audio.sample_rate)], clip.seconds), dtype=np.float32)
        if visual is not None:
            rows["visual"] = np.asarray(visual.features(decoded.frames), dtype=np.float32)
    except Exception as exc:  # an extractor may fail on one video in any way: that video is skipped
        return VideoResult("failed", f"an extractor failed on it ({type(exc).__name__}: "
                                     f"{str(exc).splitlines()[0] if str(exc) else ''})")
    for modality, array in rows.items():
        if array.shape[0] != clip.seconds or not np.isfinite(array).all():
            return VideoResult("failed", f"the {modality} extractor gave {array.shape} or a non-finite value")
    raw = None
    if clip.frames is not None:
        raw = RawClip(decoded.waves[RAW_RATE] if clip.raw_wave else None,
                      square(decoded.stills, clip.frame_size, clip.frames.crop))
    return VideoResult("ok", "", rows, raw)


def square(stills: np.ndarray, size: int, crop: bool) -> np.ndarray:
    """uint8 [T, H, W, 3] -> [T, size, size, 3]: a centre square of the shorter side (`crop`) or the
    whole picture, resized with PIL's bilinear filter (none when it has that size already)."""
    from PIL import Image

    out = np.empty((stills.shape[0], size, size, 3), np.uint8)
    for t, frame in enumerate(stills):
        height, width = frame.shape[:2]
        if crop and height != width:
            side = min(height, width)
            top, left = (height - side) // 2, (width - side) // 2
            frame = frame[top:top + side, left:left + side]
        if frame.shape[:2] != (size, size):
            frame = np.asarray(Image.fromarray(np.ascontiguousarray(frame)).resize((size, size), Image.BILINEAR))
        out[t] = frame
    return out


def build(spec: ExtractorSpec) -> Any:
    """The extractor of `spec`; a setting or weights file it cannot be built with is one line."""
    try:
        return spec.build()
    except UserError:
        raise
    except (OSError, ValueError) as exc:
        raise UserError(f"extractor {spec.cls.name}: cannot be built ({type(exc).__name__}: {exc}); "
                        f"check --set {spec.cls.name}.weights=... and its other settings") from None


def probe(modality: str, extractor: Any) -> list[int]:
    """The shape of one second's features (the extractor run on one second of zeros)."""
    if modality == "audio":
        out = extractor.features(np.zeros(int(extractor.sample_rate), np.float32), 1)
    else:
        out = extractor.features(np.zeros((1, int(extractor.frames_per_second), 224, 224, 3), np.uint8))
    out = np.asarray(out)
    if out.ndim < 2 or out.shape[0] != 1:
        raise UserError(f"extractor {extractor.name}: one second gave features of shape {out.shape}, "
                        "not [1, ...]; the extractor is broken")
    return list(out.shape[1:])


def rate(modality: str, extractor: Any) -> dict[str, int]:
    if modality == "audio":
        return {"sample_rate": int(extractor.sample_rate)}
    return {"frames_per_second": int(extractor.frames_per_second)}


def provenance(extractor: Any) -> dict[str, Any]:
    make = getattr(extractor, "provenance", None)
    return dict(make()) if callable(make) else {}

"""One video read with PyAV (the `av` package) for `avtbench extract`: its first `seconds` seconds as
mono waveforms at the rates asked for (FFmpeg's resampler through `av.AudioResampler`), frames
sampled at a given rate and, on request, one still frame a second; or the reason it cannot be used
(`Unusable`: unreadable, no audio track, no frames, too short).

Frame sampling: a frame "at instant t" is the last decoded frame shown at or before t (the first
frame when t comes before it). An extractor's frames: second s, frame j of `fps` is the frame at
s + (j + 0.5) / fps (the middle of its 1/fps slot): `fps` evenly spaced frames per second, as the AVE
(16 fps through VGG19) and AVVP (8 fps through ResNet-152) recipes sample them. Stills: the frame
at s + `phase` of each second s (the layout's recipe, `extraction.FrameRecipe`). Frames keep the
video's own size; an extractor or a layout resizes them as its recipe does. One pass of the decoder
gives all of them; a frame is converted to RGB only when it is picked.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

SHORT_SLACK = 0.1
"""Seconds a video may fall short of the clip (an encoder's padding, the last frame's duration): the
missing audio is padded with silence, the missing frames repeat the last one."""


class Unusable(Exception):
    """A video that cannot be used: `status` (unreadable, no-audio, no-frames, short) and one line why."""

    def __init__(self, status: str, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


@dataclass
class Decoded:
    """What `decode` gives: waves by sample rate (float32 [seconds * rate]), the extractor's frames
    (uint8 [seconds, fps, H, W, 3], None when no rate was asked) and the stills (uint8 [seconds, H, W, 3],
    None when no phase was asked)."""

    waves: dict[int, np.ndarray] = field(default_factory=dict)
    frames: np.ndarray | None = None
    stills: np.ndarray | None = None


def read_clip(path: Path, seconds: int, sample_rate: int, fps: int) -> tuple[np.ndarray, np.ndarray]:
    """(wave float32 [seconds * sample_rate], frames uint8 [seconds, fps, H, W, 3]) of `path`'s first
    `seconds` seconds; `Unusable` when the video cannot give them."""
    decoded = decode(path, seconds, (sample_rate,), fps)
    return decoded.waves[sample_rate], decoded.frames


def decode(path: Path, seconds: int, rates: tuple[int, ...], fps: int | None, phase: float | None = None) -> Decoded:
    """The first `seconds` seconds of `path`: a wave per rate in `rates` (none: the audio track is not
    read, and need not exist), frames at `fps` a second (None: none) and a still at s + `phase` of each
    second s (None: none); `Unusable` when the video cannot give them."""
    import av

    try:
        waves = _audio(av, path, seconds, tuple(sorted(set(rates)))) if rates else {}
        frames = stills = None
        if fps is not None or phase is not None:
            frames, stills = _frames(av, path, seconds, fps, phase)
    except Unusable:
        raise
    except (av.FFmpegError, OSError, ValueError, IndexError, EOFError) as exc:
        raise Unusable("unreadable", f"cannot be decoded ({_line(exc).replace(f': {str(path)!r}', '')})") from None
    return Decoded(waves, frames, stills)


def _audio(av, path: Path, seconds: int, rates: tuple[int, ...]) -> dict[int, np.ndarray]:
    with av.open(str(path)) as container:
        if not container.streams.audio:
            raise Unusable("no-audio", "has no audio track")
        stream = container.streams.audio[0]
        resamplers = {rate: av.AudioResampler(format="flt", layout="mono", rate=rate) for rate in rates}
        parts: dict[int, list[np.ndarray]] = {rate: [] for rate in rates}
        got = dict.fromkeys(rates, 0)

        def take(rate: int, frame) -> None:
            for out in resamplers[rate].resample(frame):
                parts[rate].append(out.to_ndarray().reshape(-1))
                got[rate] += parts[rate][-1].size

        for frame in container.decode(stream):
            for rate in rates:
                take(rate, frame)
            if all(got[rate] >= seconds * rate for rate in rates):
                break
        else:
            for rate in rates:
                take(rate, None)
    return {rate: _cut(parts[rate], seconds, rate) for rate in rates}


def _cut(parts: list[np.ndarray], seconds: int, rate: int) -> np.ndarray:
    want = seconds * rate
    wave = np.concatenate(parts).astype(np.float32) if parts else np.zeros(0, np.float32)
    if wave.size < want - SHORT_SLACK * rate:
        raise Unusable("short", f"has {wave.size / rate:.2f} s of audio, shorter than the {seconds} s clip")
    if wave.size < want:
        wave = np.pad(wave, (0, want - wave.size))
    return wave[:want]


def _frames(av, path: Path, seconds: int, fps: int | None, phase: float | None) -> tuple[np.ndarray | None, np.ndarray | None]:
    """(frames [seconds, fps, H, W, 3] or None, stills [seconds, H, W, 3] or None) in one decoding pass."""
    wanted = [((k + 0.5) / fps, 0, k) for k in range(seconds * fps)] if fps else []
    wanted += [(s + phase, 1, s) for s in range(seconds)] if phase is not None else []
    wanted.sort()
    picked: list = []  # the decoded frame of each of `wanted`, in its order
    with av.open(str(path)) as container:
        if not container.streams.video:
            raise Unusable("no-frames", "has no video track")
        stream = container.streams.video[0]
        previous, last_time = None, None
        for frame in container.decode(stream):
            if frame.time is None:
                continue
            while len(picked) < len(wanted) and wanted[len(picked)][0] < frame.time:
                picked.append(previous if previous is not None else frame)
            if len(picked) == len(wanted):
                break
            previous, last_time = frame, frame.time
        if previous is None and not picked:
            raise Unusable("no-frames", "has no decodable frame")
        rate = float(stream.average_rate or 25)
        if len(picked) < len(wanted):
            shown_until = (last_time or 0.0) + 1.0 / rate
            if shown_until < seconds - SHORT_SLACK:
                raise Unusable("short", f"has {shown_until:.2f} s of video, shorter than the {seconds} s clip")
            picked += [previous] * (len(wanted) - len(picked))
        rgb: dict[int, np.ndarray] = {}
        for f in picked:
            if id(f) not in rgb:
                rgb[id(f)] = f.to_ndarray(format="rgb24")
        arrays = [rgb[id(f)] for f in picked]
    out: list[list[np.ndarray]] = [[], []]
    for (_, kind, _), array in zip(wanted, arrays):
        out[kind].append(array)  # within a kind, `wanted` is in time order: frame k / second s in order
    frames = np.stack(out[0]).reshape(seconds, fps, *out[0][0].shape) if fps else None
    stills = np.stack(out[1]) if phase is not None else None
    return frames, stills


def _line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__

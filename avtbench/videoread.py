"""One video read with PyAV (the `av` package) for `avtbench extract`: its first `seconds` seconds as a
16 kHz mono waveform (FFmpeg's resampler through `av.AudioResampler`) and frames sampled at a given
rate, or the reason it cannot be used (`Unusable`: unreadable, no audio track, no frames, too short).

Frame sampling: second s, frame j of `fps` is the last decoded frame shown at or before the instant
s + (j + 0.5) / fps (the middle of its 1/fps slot): `fps` evenly spaced frames per second, as the AVE
(16 fps through VGG19) and AVVP (8 fps through ResNet-152) recipes sample them. Frames keep the
video's own size; an extractor resizes them as its recipe does.
"""
from __future__ import annotations

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


def read_clip(path: Path, seconds: int, sample_rate: int, fps: int) -> tuple[np.ndarray, np.ndarray]:
    """(wave float32 [seconds * sample_rate], frames uint8 [seconds, fps, H, W, 3]) of `path`'s first
    `seconds` seconds; `Unusable` when the video cannot give them."""
    import av

    try:
        wave = _audio(av, path, seconds, sample_rate)
        frames = _frames(av, path, seconds, fps)
    except Unusable:
        raise
    except (av.FFmpegError, OSError, ValueError, IndexError, EOFError) as exc:
        raise Unusable("unreadable", f"cannot be decoded ({_line(exc).replace(f': {str(path)!r}', '')})") from None
    return wave, frames


def _audio(av, path: Path, seconds: int, sample_rate: int) -> np.ndarray:
    with av.open(str(path)) as container:
        if not container.streams.audio:
            raise Unusable("no-audio", "has no audio track")
        stream = container.streams.audio[0]
        resampler = av.AudioResampler(format="flt", layout="mono", rate=sample_rate)
        want = seconds * sample_rate
        parts, got = [], 0
        for frame in container.decode(stream):
            for out in resampler.resample(frame):
                parts.append(out.to_ndarray().reshape(-1))
                got += parts[-1].size
            if got >= want:
                break
        else:
            for out in resampler.resample(None):
                parts.append(out.to_ndarray().reshape(-1))
                got += parts[-1].size
    wave = np.concatenate(parts).astype(np.float32) if parts else np.zeros(0, np.float32)
    if wave.size < want - SHORT_SLACK * sample_rate:
        raise Unusable("short", f"has {wave.size / sample_rate:.2f} s of audio, shorter than the {seconds} s clip")
    if wave.size < want:
        wave = np.pad(wave, (0, want - wave.size))
    return wave[:want]


def _frames(av, path: Path, seconds: int, fps: int) -> np.ndarray:
    targets = [(k + 0.5) / fps for k in range(seconds * fps)]
    chosen: list[np.ndarray] = []
    with av.open(str(path)) as container:
        if not container.streams.video:
            raise Unusable("no-frames", "has no video track")
        stream = container.streams.video[0]
        previous, last_time = None, None
        for frame in container.decode(stream):
            if frame.time is None:
                continue
            while len(chosen) < len(targets) and targets[len(chosen)] < frame.time:
                chosen.append(previous if previous is not None else frame.to_ndarray(format="rgb24"))
            if len(chosen) == len(targets):
                break
            previous, last_time = frame.to_ndarray(format="rgb24"), frame.time
        if previous is None and not chosen:
            raise Unusable("no-frames", "has no decodable frame")
        rate = float(stream.average_rate or 25)
    if len(chosen) < len(targets):
        shown_until = (last_time or 0.0) + 1.0 / rate
        if shown_until < seconds - SHORT_SLACK:
            raise Unusable("short", f"has {shown_until:.2f} s of video, shorter than the {seconds} s clip")
        chosen += [previous] * (len(targets) - len(chosen))
    return np.stack(chosen).reshape(seconds, fps, *chosen[0].shape)


def _line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__

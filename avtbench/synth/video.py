"""The synthetic world's clips as video files: raw/video/<id>.mp4, written through PyAV (`av`).

Written on request only, as the level "video" of `world.ensure_dataset` (the raw level plus
raw/video/, with its own COMPLETE marker and size list, SIZES.json): encoding costs about five
times the rest of the tiny world's raw level, so runs that read the WAV and PNG files skip it.
Each clip's MP4 holds what its other raw files hold, from the same latent events: the clip's raw
frames (raw/frames/<id>.png), each second's frame held for the whole second at a constant
`FPS` frames per second, and its 16 kHz waveform (raw/audio/<id>.wav), so that `avtbench extract`
and any tool made for real videos can be run on the world. The codecs are the ones real videos
use: H.264 (libx264, yuv420p, CRF `CRF`, one thread) and AAC (FFmpeg's own encoder, mono, 16 kHz,
`AUDIO_BITRATE` bit/s, the fast coder, perceptual noise substitution off so that noise stays a
waveform).

Not pinned: FFmpeg's encoders give the same bytes on one host, but no promise is made across
FFmpeg builds, CPUs or thread counts, so the videos enter no digest (`digest.py` skips `.mp4`)
and no array a method reads (those come from the WAV and PNG files, which stay exact);
raw/video/SIZES.json (`integrity.py`) covers them as the raw level's list covers its files. Lossy codecs: decoded frames
differ from the PNG frames by a few grey levels (more at coloured edges, as yuv420p halves the
chroma resolution) and decoded audio is close to, not equal to, the WAV (tests/test_synth_video.py).

A video is written to a hidden temporary name beside it and renamed when complete, so a half
written file never carries the final name (and raw/video/ is published as one folder, COMPLETE last).
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from avtbench.api import UserError

FPS = 8
"""Frames per second of the written videos: each one-second frame is repeated FPS times (the
repeats cost almost nothing in H.264), so frame t * FPS + j is the frame of second t."""
CRF = 20
AUDIO_BITRATE = 32000
SAMPLE_RATE = 16000
FOLDER = "video"
SUFFIX = ".mp4"


def import_av():
    """The `av` module, or a one-line UserError saying how to install it."""
    try:
        import av
    except ImportError:
        raise UserError("the synthetic world's raw level writes videos (raw/video/*.mp4) with PyAV, which is not "
                        "installed: pip install av (or avtbench[extract])") from None
    return av


def write_videos(dataset: Path, tmp: Path) -> None:
    """Into the folder `tmp` (to become dataset/raw/video/), one MP4 per clip of the raw level of the
    dataset folder `dataset`, made from its raw/audio/<id>.wav and raw/frames/<id>.png."""
    from avtbench.data.raw import read_raw

    import_av()
    names = sorted(p.stem for p in (Path(dataset) / "raw" / "audio").glob("*.wav") if not p.name.startswith("."))
    if not names:
        return
    level = read_raw(Path(dataset), names, Path(dataset).name)
    for i, name in enumerate(names):
        write_video(Path(tmp) / f"{name}{SUFFIX}", level.audio[i], level.visual[i])


def write_video(path: Path, wave: np.ndarray, frames: np.ndarray, fps: int = FPS) -> None:
    """Write `frames` (uint8 [T, S, S, 3], one per second) and `wave` (float [T * 16000] in [-1, 1])
    as an H.264 + AAC MP4 at `path`, through a temporary file renamed when complete."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.part")
    try:
        _encode(tmp, np.asarray(wave, dtype=np.float32), np.asarray(frames, dtype=np.uint8), fps)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def _encode(path: Path, wave: np.ndarray, frames: np.ndarray, fps: int) -> None:
    av = import_av()
    segments, height, width = frames.shape[:3]
    if height % 2 or width % 2:
        raise ValueError(f"H.264 with yuv420p needs even frame sides, not {width}x{height}")
    with av.open(str(path), "w", format="mp4") as container:
        video = container.add_stream("libx264", rate=fps)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        video.options = {"crf": str(CRF), "preset": "medium", "threads": "1"}
        audio = container.add_stream("aac", rate=SAMPLE_RATE)
        audio.layout = "mono"
        audio.bit_rate = AUDIO_BITRATE
        audio.options = {"aac_pns": "0", "aac_coder": "fast"}
        for i in range(segments * fps):
            frame = av.VideoFrame.from_ndarray(frames[i // fps], format="rgb24")
            frame.pts = i
            container.mux(video.encode(frame))
        container.mux(video.encode())
        samples = av.AudioFrame.from_ndarray(np.clip(wave, -1.0, 1.0)[None, :], format="fltp", layout="mono")
        samples.sample_rate, samples.pts = SAMPLE_RATE, 0
        container.mux(audio.encode(samples))
        container.mux(audio.encode())

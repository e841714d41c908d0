"""Seconds per 10-second video for `avtbench extract`: decoding now, the extractors when they land.

    python benchmarks/bench_extract.py [--profile tiny] [--dataset retrieval] [--videos N]

Makes (or reuses, under --world) the synthetic world's videos of one dataset (raw/video/<id>.mp4,
H.264 + AAC, `avtbench/synth/video.py`) and times, per video: decoding every frame to RGB and the
audio to a 16 kHz mono float waveform with PyAV, and a dummy extractor (per-second means of the
frames and of the waveform: next to nothing), so that the share of decoding in the total is shown.
TODO (part 6 of issue 23): time each extractor plugin (vggish, vgg19_pool5, resnet152,
clip_frames; random weights) in place of the dummy, and the same with --device cuda.
"""
from __future__ import annotations

import argparse
import platform
import tempfile
import time
from pathlib import Path

import numpy as np


def decode(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """RGB frames [F, H, W, 3] and the 16 kHz mono waveform of a video."""
    import av

    with av.open(str(path)) as container:
        frames = np.stack([f.to_ndarray(format="rgb24") for f in container.decode(video=0)])
    with av.open(str(path)) as container:
        resampler = av.AudioResampler(format="flt", layout="mono", rate=16000)
        parts = [r.to_ndarray().reshape(-1) for f in container.decode(audio=0) for r in resampler.resample(f)]
    return frames, np.concatenate(parts)


def dummy_extract(frames: np.ndarray, wave: np.ndarray, fps: int) -> tuple[np.ndarray, np.ndarray]:
    seconds = wave.shape[0] // 16000
    visual = frames[: seconds * fps].reshape(seconds, fps, -1).mean(axis=(1, 2))
    return wave[: seconds * 16000].reshape(seconds, 16000).mean(1), visual


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="tiny")
    parser.add_argument("--dataset", default="retrieval")
    parser.add_argument("--videos", type=int, default=30)
    parser.add_argument("--world", type=Path, default=None, help="world folder (default: a temporary one)")
    args = parser.parse_args()
    from avtbench.synth.video import FPS
    from avtbench.synth.world import ensure_dataset

    world = args.world or Path(tempfile.mkdtemp(prefix="bench-extract-"))
    start = time.perf_counter()
    folder = ensure_dataset(world, args.dataset, args.profile, 0, level="video")
    made = time.perf_counter() - start
    paths = sorted((folder / "raw" / "video").glob("*.mp4"))[: args.videos]
    decoding = extracting = 0.0
    for path in paths:
        t0 = time.perf_counter()
        frames, wave = decode(path)
        t1 = time.perf_counter()
        dummy_extract(frames, wave, FPS)
        decoding, extracting = decoding + t1 - t0, extracting + time.perf_counter() - t1
    seconds = wave.shape[0] / 16000
    print(f"machine: {platform.node()} {platform.machine()} {platform.processor() or ''} cpus={__import__('os').cpu_count()}")
    print(f"{len(paths)} videos of {seconds:.2f} s, {frames.shape[1]}x{frames.shape[2]} at {FPS} fps "
          f"({args.profile} world, {args.dataset}; world with videos ready in {made:.1f} s)")
    n = max(len(paths), 1)
    print(f"decode (PyAV, RGB frames + 16 kHz mono audio): {decoding / n * 1000:.1f} ms per video")
    print(f"dummy extractor: {extracting / n * 1000:.2f} ms per video; decoding's share {decoding / (decoding + extracting):.0%}")


if __name__ == "__main__":
    main()

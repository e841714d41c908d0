"""Seconds per 10-second video for `avtbench extract`: decoding and each built-in extractor.

    python benchmarks/bench_extract.py [--profile tiny] [--dataset retrieval] [--videos 3] [--device cpu]
                                       [--extractors vggish,vgg19_pool5,...]

Makes (or reuses, under --world) the synthetic world's videos of one dataset (raw/video/<id>.mp4,
H.264 + AAC, `avtbench/synth/video.py`) and times, per video: decoding every frame to RGB and the
audio to a 16 kHz mono float waveform with PyAV, then each extractor plugin (`vggish` audio;
`vgg19_pool5`, `resnet152`, `efficientnet_lite0`, `clip_frames` visual; random weights, built as
`cls(cls.make_config({"weights": "random"}), device)`) on that video's input: the whole waveform for
the audio one, and for a visual one the frames sampled at its `frames_per_second` in each second (the
frame shown at (k + 0.5) / fps s, as `avtbench/videoread.py` picks them; the world's small frames are
resized to 224x224 inside the extractors). Each extractor gets one warm-up call on the first video's
first second, then the median over the videos of its seconds per video is printed beside the median
decoding seconds and decoding's share of (decode + extract). `--device cuda` runs the extractors
there when CUDA is available (else it says so and stops).
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

EXTRACTORS = ("vggish", "vgg19_pool5", "resnet152", "efficientnet_lite0", "clip_frames")


def decode(path: Path) -> tuple[np.ndarray, np.ndarray, float]:
    """RGB frames [F, H, W, 3], the 16 kHz mono waveform and the frame rate of a video."""
    import av

    with av.open(str(path)) as container:
        rate = float(container.streams.video[0].average_rate or 25)
        frames = np.stack([f.to_ndarray(format="rgb24") for f in container.decode(video=0)])
    with av.open(str(path)) as container:
        resampler = av.AudioResampler(format="flt", layout="mono", rate=16000)
        parts = [r.to_ndarray().reshape(-1) for f in container.decode(audio=0) for r in resampler.resample(f)]
    return frames, np.concatenate(parts), rate


def sample(frames: np.ndarray, rate: float, seconds: int, fps: int) -> np.ndarray:
    """[seconds, fps, H, W, 3]: per second, the frames shown at (k + 0.5) / fps s (repeats where fps > rate)."""
    index = np.minimum(((np.arange(seconds * fps) + 0.5) / fps * rate).astype(int), len(frames) - 1)
    return frames[index].reshape(seconds, fps, *frames.shape[1:])


def extract(extractor, frames: np.ndarray, wave: np.ndarray, rate: float, seconds: int) -> np.ndarray:
    """One video's features: the waveform's first `seconds` s (audio) or frames sampled at the extractor's rate."""
    if extractor.modality == "audio":
        return extractor.features(wave[: seconds * 16000], seconds)
    return extractor.features(sample(frames, rate, seconds, int(extractor.frames_per_second)))


def machine(device: str) -> str:
    import torch

    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    gpu = f" ({torch.cuda.get_device_name(0)})" if device.startswith("cuda") else ""
    return (f"machine: {platform.node()}, {model}, {os.cpu_count()} cores, torch {torch.__version__}, "
            f"{torch.get_num_threads()} threads, device {device}{gpu}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="tiny")
    parser.add_argument("--dataset", default="retrieval")
    parser.add_argument("--videos", type=int, default=3)
    parser.add_argument("--device", default="cpu", help="cpu (default) or cuda")
    parser.add_argument("--extractors", default=",".join(EXTRACTORS), help="comma-separated names")
    parser.add_argument("--world", type=Path, default=None, help="world folder (default: a temporary one)")
    args = parser.parse_args()
    import torch

    if args.device.startswith("cuda") and not torch.cuda.is_available():
        raise SystemExit("--device cuda: CUDA is not available here")
    from avtbench.plugins import registry
    from avtbench.synth.world import ensure_dataset

    world = args.world or Path(tempfile.mkdtemp(prefix="bench-extract-"))
    start = time.perf_counter()
    folder = ensure_dataset(world, args.dataset, args.profile, 0, level="video")
    made = time.perf_counter() - start
    paths = sorted((folder / "raw" / "video").glob("*.mp4"))[: args.videos]
    if not paths:
        raise SystemExit(f"no videos under {folder / 'raw' / 'video'}")
    decoded, decoding = [], []
    for path in paths:
        t0 = time.perf_counter()
        decoded.append(decode(path))
        decoding.append(time.perf_counter() - t0)
    frames, wave, rate = decoded[0]
    seconds = int(wave.shape[0] // 16000)
    decode_s = statistics.median(decoding)
    print(machine(args.device))
    print(f"{len(paths)} videos of {wave.shape[0] / 16000:.2f} s ({seconds} s used), {frames.shape[2]}x{frames.shape[1]} "
          f"at {rate:g} fps ({args.profile} world, {args.dataset}; world with videos ready in {made:.1f} s)")
    print(f"decode (PyAV, all RGB frames + 16 kHz mono audio): {decode_s:.3f} s per video (median)")
    print()
    header = f"{'extractor':<20} {'modality':<8} {'input per video':<22} {'extract s/video':>15} {'decode s/video':>14} {'decode share':>12}"
    print(header)
    print("-" * len(header))
    for name in [n.strip() for n in args.extractors.split(",") if n.strip()]:
        cls = registry().extractor(name)
        extractor = cls(cls.make_config({"weights": "random"}), args.device)
        if cls.modality == "audio":
            shape = f"{seconds * 16000} samples"
        else:
            shape = f"{seconds}x{int(extractor.frames_per_second)} frames"
        extract(extractor, frames, wave, rate, 1)  # warm-up: the first video's first second
        times = []
        for f, w, r in decoded:
            t0 = time.perf_counter()
            extract(extractor, f, w, r, seconds)
            if args.device.startswith("cuda"):
                torch.cuda.synchronize()
            times.append(time.perf_counter() - t0)
        extract_s = statistics.median(times)
        print(f"{name:<20} {cls.modality:<8} {shape:<22} {extract_s:>15.3f} {decode_s:>14.3f} "
              f"{decode_s / (decode_s + extract_s):>12.1%}", flush=True)
        del extractor
    print(f"\n(median over {len(paths)} videos after one warm-up second; random weights)")


if __name__ == "__main__":
    main()

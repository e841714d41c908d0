"""Tiny MP4 videos written with PyAV (sine audio, coloured frames) and two tiny extractors, for the
tests of `avtbench extract` (importable by the extraction's worker processes)."""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from avtbench.extractors import Extractor


def write_video(path: Path, seconds: float, audio: bool = True, video: bool = True, size: int = 32, fps: int = 10,
                rate: int = 22050, colour: tuple[int, int, int] = (200, 40, 40), tone: float = 440.0) -> Path:
    """An MP4 of `seconds` seconds: frames of one colour getting brighter, an AAC sine tone."""
    import av

    with av.open(str(path), "w") as container:
        vstream = astream = None
        if video:
            vstream = container.add_stream("mpeg4", rate=fps)
            vstream.width = vstream.height = size
            vstream.pix_fmt = "yuv420p"
        if audio:
            astream = container.add_stream("aac", rate=rate)
            astream.layout = "stereo"
        if vstream is not None:
            for i in range(int(round(seconds * fps))):
                image = np.empty((size, size, 3), np.uint8)
                image[:] = np.clip(np.array(colour) * (0.5 + 0.5 * i / max(1, seconds * fps)), 0, 255).astype(np.uint8)
                frame = av.VideoFrame.from_ndarray(image, format="rgb24")
                frame.pts = i
                frame.time_base = Fraction(1, fps)
                for packet in vstream.encode(frame):
                    container.mux(packet)
            for packet in vstream.encode():
                container.mux(packet)
        if astream is not None:
            total, step, done = int(seconds * rate), 1024, 0
            while done < total:
                n = min(step, total - done)
                t = (np.arange(done, done + n) / rate).astype(np.float32)
                wave = (0.3 * np.sin(2 * np.pi * tone * t)).astype(np.float32)
                frame = av.AudioFrame.from_ndarray(np.stack([wave, wave]), format="fltp", layout="stereo")
                frame.sample_rate = rate
                frame.pts = done
                frame.time_base = Fraction(1, rate)
                for packet in astream.encode(frame):
                    container.mux(packet)
                done += n
            for packet in astream.encode():
                container.mux(packet)
    return Path(path)


@dataclass
class TinyConfig:
    weights: str = "random"
    seed: int = 0


class MeanFrame(Extractor):
    """Mean colour of the frames of each second: [seconds, 3]."""

    name = "mean_frame"
    modality = "visual"
    config_class = TinyConfig
    frames_per_second = 4

    def __init__(self, config: TinyConfig, device: str = "cpu") -> None:
        self.config = config

    def features(self, frames: np.ndarray) -> np.ndarray:
        return frames.astype(np.float32).mean(axis=(1, 2, 3)) / 255.0

    def provenance(self) -> dict:
        return {"weights": self.config.weights, "recipe": "mean of the frames of each second"}


class RmsAudio(Extractor):
    """RMS of each second of the wave: [seconds, 2] (RMS and the seed)."""

    name = "rms_audio"
    modality = "audio"
    config_class = TinyConfig
    sample_rate = 16000

    def __init__(self, config: TinyConfig, device: str = "cpu") -> None:
        self.config = config

    def features(self, wave: np.ndarray, seconds: int) -> np.ndarray:
        rms = np.sqrt((wave[: seconds * self.sample_rate].reshape(seconds, -1) ** 2).mean(axis=1))
        return np.stack([rms, np.full(seconds, self.config.seed, np.float32)], axis=1).astype(np.float32)

    def provenance(self) -> dict:
        return {"weights": self.config.weights}


@dataclass
class SlowConfig:
    weights: str = "random"
    seed: int = 0
    delay: float = 0.0
    trace: str = ""
    die_on_red: bool = False


class SlowMeanFrame(MeanFrame):
    """MeanFrame that sleeps `delay` seconds per video and appends a line to `trace` per video (not per
    probe); with `die_on_red`, the process running it exits at once on a red video (a worker that dies)."""

    name = "slow_mean_frame"
    config_class = SlowConfig

    def features(self, frames: np.ndarray) -> np.ndarray:
        import os
        import time

        if frames.shape[2] != 224:  # not the one-second probe
            mean = frames.reshape(-1, 3).mean(axis=0)
            if self.config.die_on_red and mean[0] > 100 > mean[1]:
                os._exit(3)
            time.sleep(self.config.delay)
            if self.config.trace:
                with open(self.config.trace, "a") as handle:
                    handle.write("video\n")
        return super().features(frames)


PLUGIN = '''
from avtbench.hookspecs import hookimpl
from tests.video_fixtures import RmsAudio, SlowMeanFrame


@hookimpl
def avtbench_extractors():
    return [RmsAudio, SlowMeanFrame]
'''


def install_extractor_plugin(site: Path) -> Path:
    """A fake installed distribution whose entry point hands over the test extractors (hook avtbench_extractors)."""
    site.mkdir(parents=True, exist_ok=True)
    (site / "test_extractors_plugin.py").write_text(PLUGIN)
    info = site / "test_extractors-1.0.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: test-extractors\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[avtbench]\ntest_extractors = test_extractors_plugin\n")
    return site

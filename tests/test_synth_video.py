"""The synthetic world's videos (raw/video/<id>.mp4, `avtbench.synth.video`): written on request,
covered by their own markers, and they decode to the world's own frames and waveforms, closely."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from avtbench.data.raw import read_raw
from avtbench.synth import video
from avtbench.synth.digest import world_digests
from avtbench.synth.world import ensure_dataset

av = pytest.importorskip("av")


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return ensure_dataset(tmp_path_factory.mktemp("world"), "retrieval", "tiny", 0, level="video")  # 30 clips


def _decode(path: Path) -> tuple[dict, np.ndarray, np.ndarray]:
    with av.open(str(path)) as container:
        v, a = container.streams.video[0], container.streams.audio[0]
        about = {"duration": container.duration / 1e6, "frames": v.frames, "rate": v.average_rate,
                 "sample_rate": a.sample_rate, "channels": a.layout.nb_channels, "codecs": (v.codec_context.name, a.codec_context.name)}
        frames = np.stack([f.to_ndarray(format="rgb24") for f in container.decode(video=0)])
    with av.open(str(path)) as container:
        audio = np.concatenate([f.to_ndarray().reshape(-1) for f in container.decode(audio=0)])
    return about, frames, audio


def test_every_clip_of_the_raw_level_has_a_video_under_markers(clips: Path) -> None:
    waves = sorted(p.stem for p in (clips / "raw" / "audio").glob("*.wav"))
    folder = clips / "raw" / "video"
    assert sorted(p.stem for p in folder.glob("*.mp4")) == waves and waves
    assert (folder / "COMPLETE").exists() and (folder / "SIZES.json").exists()
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]  # no temporaries left
    assert not any(name.endswith(".mp4") for name in world_digests(clips.parent))  # not pinned


def test_the_videos_decode_to_the_worlds_frames_and_waveforms(clips: Path) -> None:
    names = sorted(p.stem for p in (clips / "raw" / "video").glob("*.mp4"))
    raw = read_raw(clips, names, "retrieval")
    for i, name in enumerate(names):
        about, frames, audio = _decode(clips / "raw" / "video" / f"{name}.mp4")
        wave, pictures = raw.audio[i], raw.visual[i]
        seconds = pictures.shape[0]
        assert about["codecs"] == ("h264", "aac")
        assert about["sample_rate"] == 16000 and about["channels"] == 1
        assert about["rate"] == video.FPS and about["frames"] == seconds * video.FPS == len(frames)
        assert abs(about["duration"] - seconds) < 0.1
        assert frames.shape[1:] == pictures.shape[1:]
        error = np.abs(frames.astype(np.float32) - np.repeat(pictures, video.FPS, axis=0)).mean()
        assert error < 12.0, f"{name}: mean absolute pixel error {error:.2f}"
        assert seconds * 16000 <= audio.shape[0] < seconds * 16000 + 2048  # AAC pads its last frame
        correlation = np.corrcoef(audio[: wave.shape[0]], wave)[0, 1]
        assert correlation > 0.9, f"{name}: audio correlation {correlation:.3f}"


def test_a_second_request_reuses_the_videos_and_damage_is_rewritten(clips: Path) -> None:
    folder = clips / "raw" / "video"
    first = sorted(folder.glob("*.mp4"))[0]
    stamp = first.stat().st_mtime_ns
    assert ensure_dataset(clips.parent, "retrieval", "tiny", 0, level="video") == clips
    assert first.stat().st_mtime_ns == stamp
    first.write_bytes(first.read_bytes()[:100])  # truncated
    ensure_dataset(clips.parent, "retrieval", "tiny", 0, level="video")
    assert first.stat().st_size > 100 and _decode(first)[1].shape[0] > 0


def test_a_half_written_video_never_carries_the_final_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(path: Path, *args: object) -> None:
        Path(path).write_bytes(b"half")
        raise RuntimeError("killed")

    monkeypatch.setattr(video, "_encode", broken)
    with pytest.raises(RuntimeError):
        video.write_video(tmp_path / "x.mp4", np.zeros(16000, np.float32), np.zeros((1, 8, 8, 3), np.uint8))
    assert list(tmp_path.iterdir()) == []


def test_without_pyav_a_one_line_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from avtbench.api import UserError

    monkeypatch.setitem(sys.modules, "av", None)
    with pytest.raises(UserError, match="pip install av"):
        video.import_av()

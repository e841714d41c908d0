"""The AVSBench S4 reader on files written here in the release layout, its lazy arrays (a clip's files
are read when its row is), and every bad input as one line."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile
from PIL import Image

from avtbench.data.rows import RowArray
from avtbench_plugins.datasets.avs_s4.reader import FEATURES, META, PROMPTS, read_s4
from avtbench_plugins.datasets.avs_s4.vocab import CATEGORIES, CMG_PROMPTS

from .conftest import user_error

SIZE, DIM = 8, 3
CLIPS = [("vidA", "dog_barking", "train"), ("vidB", "race_car", "val"), ("vidC", "helicopter", "train"),
         ("vidD", "lawn_mowing", "test")]


def _png(path: Path, array: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)


def write_layout(root: Path, clips=CLIPS, seconds: float = 5.0) -> Path:
    rng = np.random.default_rng(0)
    lines = ["name,start_time,category,split"] + [f"{n},{i},{c},{s}" for i, (n, c, s) in enumerate(clips)]
    root.mkdir(parents=True, exist_ok=True)
    (root / META).write_text("\n".join(lines) + "\n")
    for i, (name, category, split) in enumerate(clips):
        base = root / "s4_data"
        for k in range(1, 6):
            _png(base / "visual_frames" / split / category / name / f"{name}_{k}.png",
                 rng.integers(0, 256, (SIZE, SIZE, 3), dtype=np.uint8))
            if k == 1 or split != "train":
                mask = np.zeros((SIZE, SIZE), dtype=np.uint8)
                mask[: i + 1, : k + 1] = 255
                _png(base / "gt_masks" / split / category / name / f"{name}_{k}.png", mask)
        wav = base / "audio_wav" / split / category / f"{name}.wav"
        wav.parent.mkdir(parents=True, exist_ok=True)
        soundfile.write(str(wav), np.full(int(seconds * 16000), 0.1 * i, dtype=np.float32), 16000, subtype="FLOAT")
        npy = base / FEATURES / split / category / f"{name}.npy"
        npy.parent.mkdir(parents=True, exist_ok=True)
        np.save(npy, np.full((5, DIM), i, dtype=np.float32))
    return root


@pytest.fixture
def layout(tmp_path: Path) -> Path:
    return write_layout(tmp_path / "s4")


def _path(root: Path, kind: str, clip: int, suffix: str) -> Path:
    name, category, split = CLIPS[clip]
    return root / "s4_data" / kind / split / category / f"{name}{suffix}"


def read_all(root: Path, split: str, level: str = "features"):
    """read_s4 with every lazy array read: the errors met only when a row is read."""
    return read_s4(root, split, level).materialized()


def test_feature_level_train_split(layout: Path) -> None:
    clips = read_s4(layout, "train")
    assert clips.ids == ["vidA", "vidC"] and clips.class_names == CATEGORIES
    assert clips.audio.shape == (2, 5, DIM) and clips.audio[1, 0, 0] == 2 and clips.visual is None
    assert clips.labels["frames"].shape == (2, 5, SIZE, SIZE, 3) and clips.labels["frames"].dtype == np.uint8
    assert clips.labels["annotated"].tolist() == [[True, False, False, False, False]] * 2  # S4: first frame only
    masks = clips.labels["masks"]
    assert set(np.unique(masks)) == {0, 1} and masks[1, 0].sum() == 3 * 2 and not masks[:, 1:].any()
    assert clips.labels["category"].tolist() == [CATEGORIES.index("dog_barking"), CATEGORIES.index("helicopter")]
    assert clips.text == [CMG_PROMPTS["dog_barking"], CMG_PROMPTS["helicopter"]]  # no prompts file: CMG's prompts
    assert clips.captions == [[t] for t in clips.text]


def test_raw_level_and_eval_masks(layout: Path) -> None:
    clips = read_s4(layout, "val", level="raw")
    assert clips.audio.shape == (1, 80000) and np.allclose(clips.audio, 0.1)
    assert clips.visual is clips.labels["frames"] and clips.labels["annotated"].all()
    assert [int(m.sum()) for m in clips.labels["masks"][0]] == [2 * (k + 1) for k in range(1, 6)]


def test_short_wave_is_padded_to_five_seconds(tmp_path: Path) -> None:
    clips = read_s4(write_layout(tmp_path / "s4", seconds=4.6), "val", level="raw")
    assert clips.audio.shape == (1, 80000) and clips.audio[0, -1] == 0 and clips.audio[0, 0] == pytest.approx(0.1)


def test_prompts_file_replaces_cmg_prompts(layout: Path) -> None:
    (layout / PROMPTS).write_text("label,prompt\n" + "".join(f"{c},the {c}\n" for c in CATEGORIES))
    assert read_s4(layout, "test").text == ["the lawn_mowing"]


def test_missing_mask(layout: Path) -> None:
    path = _path(layout, "gt_masks", 1, "/vidB_3.png")
    path.unlink()
    message = user_error(read_s4, layout, "val")
    assert str(path) in message and "file not found" in message
    read_s4(layout, "train")  # train needs only the first frame's mask
    _path(layout, "gt_masks", 0, "/vidA_1.png").unlink()
    assert "vidA_1.png: file not found" in user_error(read_s4, layout, "train")


def test_wrong_sizes(layout: Path) -> None:
    _png(_path(layout, "visual_frames", 3, "/vidD_4.png"), np.zeros((SIZE, SIZE + 1, 3), dtype=np.uint8))
    assert "vidD_4.png: image is 9x8 pixels, but the clips' frames are 8x8" in user_error(read_all, layout, "test")
    _png(_path(layout, "gt_masks", 1, "/vidB_2.png"), np.zeros((4, 4), dtype=np.uint8))
    assert "vidB_2.png: image is 4x4 pixels" in user_error(read_all, layout, "val")


def test_category_not_in_the_list(tmp_path: Path) -> None:
    root = write_layout(tmp_path / "s4", [("vidA", "dog_barking", "train"), ("vidB", "kazoo", "val")])
    assert f"{root / META}:3: unknown S4 category 'kazoo'" in user_error(read_s4, root, "train")


@pytest.mark.parametrize("meta, expected", [
    ("name,start,kind,split\nvidA,0,dog_barking,train\n", "must name columns 'category' and 'split'"),
    ("name,start_time,category,split\nvidA,0,dog_barking,holdout\n", ":2: unknown split 'holdout'"),
    ("name,start_time,category,split\nvidA,0,dog_barking\n", ":2: 3 fields, the header has 4"),
    ("name,start_time,category,split\nvidA,0,dog_barking,train\nvidA,1,dog_barking,train\n", ":3: video name 'vidA' is empty or listed twice"),
])
def test_bad_meta(layout: Path, meta: str, expected: str) -> None:
    (layout / META).write_text(meta)
    assert expected in user_error(read_s4, layout, "train")


def test_bad_audio(layout: Path) -> None:
    np.save(_path(layout, FEATURES, 3, ".npy"), np.zeros((4, DIM), dtype=np.float32))
    assert "features of shape (4, 3)" in user_error(read_s4, layout, "test")
    np.save(_path(layout, FEATURES, 0, ".npy"), np.full((5, DIM), np.nan, dtype=np.float32))
    assert "NaN or inf" in user_error(read_s4, layout, "train")
    _path(layout, FEATURES, 1, ".npy").unlink()
    assert "file not found; the feature level needs per-second audio features" in user_error(read_s4, layout, "val")
    soundfile.write(str(_path(layout, "audio_wav", 3, ".wav")), np.zeros(80000, dtype=np.float32), 8000)
    assert "1 channel(s) at 8000 Hz, expected mono at 16000 Hz" in user_error(read_all, layout, "test", level="raw")
    soundfile.write(str(_path(layout, "audio_wav", 1, ".wav")), np.zeros(16000, dtype=np.float32), 16000)
    assert "1 s of audio, expected 5 s" in user_error(read_all, layout, "val", level="raw")


def test_bad_prompts_and_arguments(layout: Path) -> None:
    (layout / PROMPTS).write_text("label,prompt\ndog_barking,a dog\n")
    assert "no prompt for category 'baby_laughter' (22 missing)" in user_error(read_s4, layout, "train")
    (layout / PROMPTS).write_text("label,prompt\nkazoo,a kazoo\n")
    assert ":2: expected '<S4 category>,<prompt>'" in user_error(read_s4, layout, "train")
    (layout / PROMPTS).unlink()
    assert "unknown AVSBench S4 split 'dev'" in user_error(read_s4, layout, "dev")
    assert "unknown input level 'pixels'" in user_error(read_s4, layout, "train", level="pixels")
    assert "AVSBench S4 folder not found" in user_error(read_s4, layout / "nowhere", "train")
    (layout / META).write_text("name,start_time,category,split\nvidA,0,dog_barking,train\n")
    assert "no clip of split 'test'" in user_error(read_s4, layout, "test")
    _path(layout, "visual_frames", 0, "/vidA_2.png").write_bytes(b"not a png")
    assert "vidA_2.png: unreadable or truncated PNG" in user_error(read_all, layout, "train")


def test_bad_rows_after_the_first_are_met_when_read(layout: Path) -> None:
    """Features of another D or with a NaN in a later clip, and a wave of a later clip: at read time."""
    np.save(_path(layout, FEATURES, 2, ".npy"), np.zeros((5, DIM + 1), dtype=np.float32))
    clips = read_s4(layout, "train")
    assert clips.audio[0].shape == (5, DIM)
    assert "vidC.npy: features of shape (5, 4) (float32), expected numbers [5, 3]" in user_error(clips.audio.__getitem__, 1)
    np.save(_path(layout, FEATURES, 2, ".npy"), np.full((5, DIM), np.inf, dtype=np.float32))
    assert "vidC.npy: features contain NaN or inf" in user_error(read_all, layout, "train")
    _path(layout, "audio_wav", 2, ".wav").write_bytes(b"RIFF")
    assert "vidC.wav: unreadable audio file" in user_error(read_all, layout, "train", level="raw")


def _expected(root: Path, split: str, level: str) -> dict[str, np.ndarray]:
    """The arrays of a split read eagerly from the files written by `write_layout`, here, apart from the reader."""
    picked = [(i, c) for i, c in enumerate(CLIPS) if c[2] == split]
    frames = np.zeros((len(picked), 5, SIZE, SIZE, 3), dtype=np.uint8)
    masks = np.zeros((len(picked), 5, SIZE, SIZE), dtype=np.uint8)
    for row, (i, (name, category, _)) in enumerate(picked):
        for k in range(1, 6):
            frames[row, k - 1] = np.asarray(Image.open(_path(root, "visual_frames", i, f"/{name}_{k}.png")))
            mask = _path(root, "gt_masks", i, f"/{name}_{k}.png")
            if mask.exists():
                masks[row, k - 1] = np.asarray(Image.open(mask)) >= 128
    if level == "raw":
        audio = np.stack([soundfile.read(str(_path(root, "audio_wav", i, ".wav")), dtype="float32")[0] for i, _ in picked])
    else:
        audio = np.stack([np.load(_path(root, FEATURES, i, ".npy")) for i, _ in picked]).astype(np.float32)
    return {"audio": audio, "frames": frames, "masks": masks}


@pytest.mark.parametrize("level", ["features", "raw"])
def test_lazy_arrays_equal_the_files_read_whole(layout: Path, level: str) -> None:
    for split in ("train", "val", "test"):
        clips = read_s4(layout, split, level)
        lazy = {"audio": clips.audio, "frames": clips.labels["frames"], "masks": clips.labels["masks"]}
        assert clips.is_lazy() and all(isinstance(a, RowArray) for a in lazy.values())
        assert clips.visual is (clips.labels["frames"] if level == "raw" else None)
        assert isinstance(clips.labels["annotated"], np.ndarray) and isinstance(clips.labels["category"], np.ndarray)
        whole = clips.materialized()
        for key, expected in _expected(layout, split, level).items():
            got = np.asarray(lazy[key])
            assert got.dtype == expected.dtype and got.shape == expected.shape == lazy[key].shape, key
            np.testing.assert_array_equal(got, expected, err_msg=key)
            np.testing.assert_array_equal(whole.labels.get(key, whole.audio), expected, err_msg=key)
            rows = np.arange(len(expected))[::-1]
            np.testing.assert_array_equal(lazy[key][rows], expected[rows], err_msg=key)  # rows in any order


def _count_opens(monkeypatch) -> list[str]:
    """The names of the PNG, .npy and audio files opened from now on."""
    opened: list[str] = []
    for module, name in ((Image, "open"), (np, "load"), (soundfile, "read")):
        original = getattr(module, name)

        def counting(path, *args, _original=original, **kwargs):
            opened.append(Path(path).name)
            return _original(path, *args, **kwargs)

        monkeypatch.setattr(module, name, counting)
    return opened


def test_reading_a_row_reads_only_that_clips_files(layout: Path, monkeypatch) -> None:
    opened = _count_opens(monkeypatch)
    clips = read_s4(layout, "train")
    assert opened == ["vidA_1.png", "vidA.npy"]  # up front: the frame size and the feature dimension
    opened.clear()
    assert clips.labels["frames"][1].shape == (5, SIZE, SIZE, 3)
    assert opened == [f"vidC_{k}.png" for k in range(1, 6)]
    opened.clear()
    assert clips.labels["masks"][1, 0].sum() == 3 * 2 and clips.audio[[1]].shape == (1, 5, DIM)
    assert opened == ["vidC_1.png", "vidC.npy"]  # train: the first frame's mask only
    opened.clear()
    raw = read_s4(layout, "val", level="raw")
    assert opened == ["vidB_1.png"]  # no wave is read up front
    opened.clear()
    assert raw.audio[0].shape == (80000,) and opened == ["vidB.wav"]
    opened.clear()
    raw.subset([0])  # a subset reads nothing
    assert opened == []


def test_truncated_png_is_one_line_naming_the_file_when_its_row_is_read(layout: Path) -> None:
    for kind, k in (("visual_frames", 3), ("gt_masks", 1)):
        path = _path(layout, kind, 2, f"/vidC_{k}.png")
        good = path.read_bytes()
        path.write_bytes(good[: len(good) // 2])
        clips = read_s4(layout, "train")  # the reader opens vidA's first frame only
        assert clips.labels["frames"][0].shape == (5, SIZE, SIZE, 3) and clips.labels["masks"][0, 0].any()
        labels = clips.labels["frames" if kind == "visual_frames" else "masks"]
        message = user_error(labels.__getitem__, 1)
        assert message.startswith(f"{path}: unreadable or truncated PNG (") and "AVSBench S4 release layout" in message
        assert user_error(clips.materialized) == message
        path.write_bytes(good)


def test_a_file_gone_after_reading_is_one_line_when_its_row_is_read(layout: Path) -> None:
    clips = read_s4(layout, "val", level="raw")
    for path, array in ((_path(layout, "gt_masks", 1, "/vidB_4.png"), clips.labels["masks"]),
                        (_path(layout, "audio_wav", 1, ".wav"), clips.audio)):
        path.unlink()
        assert user_error(array.__getitem__, 0).startswith(f"{path}: file not found; ")

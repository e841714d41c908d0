"""The AVE / AVVP / corpus readers on the real annotation files, on small folders in the real
layout, and on broken input (every problem must be one UserError line naming the file)."""
from __future__ import annotations

import shutil
from pathlib import Path

import h5py
import numpy as np
import pytest

from avtbench.data.files import read_h5
from avtbench_plugins.datasets.ave.reader import ave_labels_from_annotations, read_ave, read_ave_annotations, read_ave_rows
from avtbench_plugins.datasets.ave.vocab import AVE_CLASSES
from avtbench_plugins.datasets.avvp.reader import read_avvp, read_avvp_csv, read_avvp_eval_csv
from avtbench_plugins.datasets.avvp.vocab import AVVP_CLASSES
from avtbench_plugins.datasets.corpus.reader import read_corpus

from .conftest import user_error, whole

AVE_ROWS = [
    "Church bell&RUhOCu3LNXM&good&0&10",
    "Church bell&MH3m4AwEcRY&good&6&8",
    "Bark&AAAAAAAAAAA&good&2&5",
    "Bark&BBBBBBBBBBB&good&0&0",
    "Mandolin&CCCCCCCCCCC&good&4&10",
    "Cat&DDDDDDDDDDD&good&0&10",
]


@pytest.fixture(scope="module")
def real() -> Path:
    root = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"
    if not root.is_dir():
        pytest.skip(f"real annotation files not found at {root}")
    return root


def manifest_rows(real: Path) -> dict[str, int]:
    """Data rows (lines minus header) of each text file listed in MANIFEST.tsv."""
    lines = (real / "MANIFEST.tsv").read_text().splitlines()
    header = lines[0].split("\t")
    rows = [dict(zip(header, line.split("\t"))) for line in lines[1:]]
    return {r["local_path"]: int(r["lines"]) for r in rows if r["lines"].isdigit()}


def write_h5(path: Path, key: str, data: np.ndarray) -> None:
    with h5py.File(path, "w") as f:
        f.create_dataset(key, data=data)


def make_ave(root: Path, lines: list[str], header: bool = True, audio_dim: int = 4, visual_shape: tuple = (2, 2, 3)) -> Path:
    """An AVE folder with the given annotation lines, random features and a 3-way split."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "Annotations.txt").write_text("\n".join((["Category&VideoID&Quality&StartTime&EndTime"] if header else []) + lines) + "\n")
    n = len(lines)
    rng = np.random.default_rng(0)
    write_h5(root / "audio_feature.h5", "avadataset", rng.standard_normal((n, 10, audio_dim)).astype(np.float32))
    write_h5(root / "visual_feature.h5", "avadataset", rng.standard_normal((n, 10, *visual_shape)).astype(np.float32))
    order = rng.permutation(n)
    cut = [0, n - 2 * (n // 5), n - n // 5, n]
    for split, lo, hi in zip(("train", "val", "test"), cut[:-1], cut[1:]):
        write_h5(root / f"{split}_order.h5", "order", order[lo:hi].astype(np.int64))
    return root


def make_avvp(root: Path, features: dict[str, np.ndarray] | None = None) -> Path:
    """An AVVP folder with two val videos."""
    names = ["AAAAAAAAAAA_0_10", "B-B_BBBBBBB_30_40"]
    root.mkdir(parents=True, exist_ok=True)
    weak = "filename\tevent_labels\n" + f"{names[0]}\tSpeech,Dog\n{names[1]}\tCat\n"
    for file in ("AVVP_train.csv", "AVVP_val_pd.csv", "AVVP_test_pd.csv"):
        (root / file).write_text(weak)
    audio_rows = [(0, 0, 4, "Speech"), (0, 3, 3, "Dog"), (1, 9, 10, "Cat"), (1, 6, 2, "Speech")]
    (root / "AVVP_eval_audio.csv").write_text(
        "filename\tonset\toffset\tevent_labels\n" + "".join(f"{names[v]}\t{on}\t{off}\t{c}\n" for v, on, off, c in audio_rows)
    )
    (root / "AVVP_eval_visual.csv").write_text(f"filename\tonset\toffset\tevent_labels\n{names[0]}\t2\t10\tDog\n")
    rng = np.random.default_rng(0)
    for sub, shape in (("vggish", (10, 4)), ("vgg19", (10, 2, 2, 3))):
        (root / "feats" / sub).mkdir(parents=True, exist_ok=True)
        for name in names:
            np.save(root / "feats" / sub / f"{name[:11]}.npy", rng.standard_normal(shape).astype(np.float32))
    for rel, array in (features or {}).items():
        np.save(root / rel, array)
    return root


# ---- real annotation files -----------------------------------------------------------------


def test_ave_annotations_real(real: Path) -> None:
    rows = read_ave_annotations(real / "ave" / "Annotations.txt")
    assert len(rows) == 4143
    assert len({r.video_id for r in rows}) == 4097  # some videos carry two events
    assert sorted({r.category for r in rows}) == sorted(AVE_CLASSES)
    first_seen = list(dict.fromkeys(r.category for r in rows))
    assert first_seen == AVE_CLASSES  # the label order of AVE-ECCV18 is the order of first appearance
    assert rows[0].video_id == "RUhOCu3LNXM" and (rows[0].start, rows[0].end) == (0, 10)
    counts = {c: sum(r.category == c for r in rows) for c in AVE_CLASSES}
    assert counts["Church bell"] == 188 and counts["Bark"] == 171 and counts["Cat"] == 60
    assert sum((r.start, r.end) == (0, 10) for r in rows) == 2750
    assert [r.video_id for r in rows if r.start == r.end] == ["VWi2ENBuTbw"]


def test_ave_orders_real(real: Path) -> None:
    orders = {s: read_h5(real / "ave" / f"{s}_order.h5", "order", "fix") for s in ("train", "val", "test")}
    assert [len(orders[s]) for s in ("train", "val", "test")] == [3339, 402, 402]
    everything = np.concatenate(list(orders.values()))
    assert sorted(everything.tolist()) == list(range(4143))


def test_ave_labels_match_released_label_files(real: Path) -> None:
    rows = read_ave_annotations(real / "ave" / "Annotations.txt")
    labels = ave_labels_from_annotations(rows)
    assert labels.shape == (4143, 10, 29) and np.all(labels.sum(-1) == 1)
    # labels_closs.h5: 1 where a segment holds the event, 0 for background
    closs = read_h5(real / "ave" / "labels_closs.h5", "avadataset", "fix")
    np.testing.assert_array_equal(labels[:, :, :28].sum(-1), closs)
    np.testing.assert_array_equal(labels[:, :, 28], 1 - closs)
    # mil_labels.h5: the clip's class one-hot (also for the one row with an empty event)
    mil = read_h5(real / "ave" / "mil_labels.h5", "avadataset", "fix")
    np.testing.assert_array_equal(mil.argmax(1), [r.label for r in rows])
    nonempty = [i for i, r in enumerate(rows) if r.end > r.start]
    np.testing.assert_array_equal(labels[nonempty, :, :28].max(1), mil[nonempty, :28])


def test_avvp_csvs_real(real: Path) -> None:
    expected = manifest_rows(real)
    for name in ("AVVP_train.csv", "AVVP_val_pd.csv", "AVVP_test_pd.csv", "AVVP_dataset_full.csv"):
        rows = read_avvp_csv(real / "avvp" / name)
        assert len(rows) == expected[f"avvp/{name}"] - 1
        assert all(len(r[0].rsplit("_", 2)[0]) == 11 for r in rows)
    assert {label for _, labels in read_avvp_csv(real / "avvp" / "AVVP_train.csv") for label in labels} == set(AVVP_CLASSES)
    for name in ("AVVP_eval_audio.csv", "AVVP_eval_visual.csv"):
        events = read_avvp_eval_csv(real / "avvp" / name)
        assert len(events) == expected[f"avvp/{name}"] - 1
    audio = read_avvp_eval_csv(real / "avvp" / "AVVP_eval_audio.csv")
    assert audio[0].filename == "4YdbENYcIyE_23_33" and (audio[0].onset, audio[0].offset) == (0, 4)
    assert sum(e.onset >= e.offset for e in audio) == 6  # rows that mark nothing (official slice GT[c, on:off])


def test_read_ave_on_real_annotations(real: Path, tmp_path: Path) -> None:
    for name in ("Annotations.txt", "train_order.h5", "val_order.h5", "test_order.h5"):
        shutil.copy(real / "ave" / name, tmp_path / name)
    rng = np.random.default_rng(0)
    write_h5(tmp_path / "audio_feature.h5", "avadataset", rng.standard_normal((4143, 10, 3)).astype(np.float32))
    write_h5(tmp_path / "visual_feature.h5", "avadataset", rng.standard_normal((4143, 10, 5)).astype(np.float32))
    clips = read_ave(tmp_path, "test")
    order = read_h5(tmp_path / "test_order.h5", "order", "fix")
    rows = read_ave_annotations(tmp_path / "Annotations.txt")
    assert len(clips) == 402 and clips.audio.shape == (402, 10, 3) and clips.visual.shape == (402, 10, 1, 1, 5)
    assert clips.ids == [rows[i].video_id for i in order]
    np.testing.assert_array_equal(clips.labels["segment"], ave_labels_from_annotations([rows[i] for i in order]))
    assert clips.class_names == AVE_CLASSES
    with h5py.File(tmp_path / "audio_feature.h5", "r") as f:
        np.testing.assert_array_equal(clips.audio, f["avadataset"][()][order])


def test_read_avvp_on_real_csvs(real: Path, tmp_path: Path) -> None:
    for name in ("AVVP_train.csv", "AVVP_val_pd.csv", "AVVP_test_pd.csv", "AVVP_eval_audio.csv", "AVVP_eval_visual.csv"):
        shutil.copy(real / "avvp" / name, tmp_path / name)
    names = [n for n, _ in read_avvp_csv(tmp_path / "AVVP_val_pd.csv")]
    rng = np.random.default_rng(0)
    for sub, shape in (("vggish", (10, 4)), ("res152", (80, 6))):  # res152: 8 frames per second
        (tmp_path / "feats" / sub).mkdir(parents=True)
        for name in names:
            np.save(tmp_path / "feats" / sub / f"{name[:11]}.npy", rng.standard_normal(shape).astype(np.float32))
    clips = read_avvp(tmp_path, "val", visual_features="res152")
    assert len(clips) == 649 and clips.audio.shape == (649, 10, 4) and clips.visual.shape == (649, 10, 1, 1, 6)
    frames = np.load(tmp_path / "feats" / "res152" / f"{names[0][:11]}.npy")
    np.testing.assert_allclose(clips.visual[0, 3, 0, 0], frames[24:32].mean(0), rtol=1e-6)
    assert clips.labels["video"].shape == (649, 25) and clips.labels["audio"].shape == (649, 25, 10)
    row = names.index("4O9rI-FpqLg_10_20")
    assert set(np.flatnonzero(clips.labels["video"][row])) == {AVVP_CLASSES.index(c) for c in ("Cheering", "Speech", "Clapping")}
    assert clips.labels["audio"].sum() > 0 and clips.labels["visual"].sum() > 0


# ---- small folders in the real layout ------------------------------------------------------


def test_read_ave_small_without_labels_file(tmp_path: Path) -> None:
    root = make_ave(tmp_path / "ave", AVE_ROWS, header=False)
    splits = {s: read_ave(root, s) for s in ("train", "val", "test")}
    assert sum(len(c) for c in splits.values()) == len(AVE_ROWS)
    assert all(c.visual.shape[1:] == (10, 2, 2, 3) for c in splits.values())
    clips = next(c for c in splits.values() if "BBBBBBBBBBB" in c.ids)
    assert clips.labels["segment"][clips.ids.index("BBBBBBBBBBB"), :, 28].all()  # an empty event is all background


def test_read_ave_prefers_labels_file(tmp_path: Path) -> None:
    root = make_ave(tmp_path / "ave", AVE_ROWS)
    labels = np.zeros((len(AVE_ROWS), 10, 29), dtype=np.float32)
    labels[:, :, 5] = 1
    write_h5(root / "labels.h5", "avadataset", labels)
    assert (read_ave(root, "val").labels["segment"].argmax(-1) == 5).all()


def test_avvp_segment_convention(tmp_path: Path) -> None:
    clips = read_avvp(make_avvp(tmp_path / "avvp"), "val")
    speech, dog, cat = (AVVP_CLASSES.index(c) for c in ("Speech", "Dog", "Cat"))
    np.testing.assert_array_equal(clips.labels["audio"][0, speech], [1, 1, 1, 1, 0, 0, 0, 0, 0, 0])  # onset <= s < offset
    assert clips.labels["audio"][0, dog].sum() == 0  # onset == offset marks nothing
    np.testing.assert_array_equal(clips.labels["visual"][0, dog], [0, 0] + [1] * 8)
    assert clips.labels["audio"][1, cat, 9] == 1 and clips.labels["audio"][1, speech].sum() == 0  # onset > offset
    assert clips.labels["visual"][1].sum() == 0
    assert "audio" not in read_avvp(tmp_path / "avvp", "train").labels


# ---- broken input --------------------------------------------------------------------------


def test_ave_errors(tmp_path: Path) -> None:
    root = make_ave(tmp_path / "ave", AVE_ROWS)
    assert "split" in user_error(whole(read_ave), root, "training")
    assert "nowhere" in user_error(whole(read_ave), tmp_path / "nowhere", "train")

    data = (root / "audio_feature.h5").read_bytes()
    (root / "audio_feature.h5").write_bytes(data[: len(data) // 3])
    assert "audio_feature.h5" in user_error(whole(read_ave), root, "train")

    write_h5(root / "audio_feature.h5", "avadataset", np.zeros((len(AVE_ROWS), 9, 4), np.float32))
    assert "audio_feature.h5" in user_error(whole(read_ave), root, "train")  # 9 segments
    write_h5(root / "audio_feature.h5", "avadataset", np.zeros((len(AVE_ROWS) - 1, 10, 4), np.float32))
    assert "audio_feature.h5" in user_error(whole(read_ave), root, "train")  # one row short
    write_h5(root / "audio_feature.h5", "features", np.zeros((len(AVE_ROWS), 10, 4), np.float32))
    assert "audio_feature.h5" in user_error(whole(read_ave), root, "train")  # wrong key
    write_h5(root / "audio_feature.h5", "avadataset", np.zeros((len(AVE_ROWS), 10, 4), np.float32))

    visual = np.zeros((len(AVE_ROWS), 10, 2, 2, 3), np.float32)
    visual[:, 3, 0, 0, 0] = np.nan
    write_h5(root / "visual_feature.h5", "avadataset", visual)
    assert "visual_feature.h5" in user_error(whole(read_ave), root, "train")
    visual[:] = 0
    bad = int(read_ave_rows(root, "train")[0][-1])  # one bad clip: the error names its row of the file
    visual[bad, 3, 0, 0, 0] = np.nan
    write_h5(root / "visual_feature.h5", "avadataset", visual)
    assert f"NaN or inf (row {bad})" in user_error(whole(read_ave), root, "train")
    write_h5(root / "visual_feature.h5", "avadataset", np.zeros((len(AVE_ROWS), 10, 2, 2, 3), np.float32))

    (root / "test_order.h5").unlink()
    assert "test_order.h5" in user_error(whole(read_ave), root, "test")
    write_h5(root / "test_order.h5", "order", np.array([0, 99], dtype=np.int64))
    assert "test_order.h5" in user_error(whole(read_ave), root, "test")

    (root / "Annotations.txt").write_text("Church bell&x&good&0&10\nKazoo&y&good&0&10\n")
    message = user_error(whole(read_ave), root, "train")
    assert "Annotations.txt:2" in message and "Kazoo" in message
    (root / "Annotations.txt").write_text("Church bell&x&good&4&11\n")
    assert "Annotations.txt:1" in user_error(whole(read_ave), root, "train")


def test_avvp_errors(tmp_path: Path) -> None:
    def broken(rel: str, array: np.ndarray, name: str) -> str:
        root = make_avvp(tmp_path / name, {rel: array})
        return user_error(whole(read_avvp), root, "val")

    assert "AAAAAAAAAAA.npy" in broken("feats/vggish/AAAAAAAAAAA.npy", np.zeros((9, 4), np.float32), "short")
    assert "AAAAAAAAAAA.npy" in broken("feats/vgg19/AAAAAAAAAAA.npy", np.full((10, 2, 2, 3), np.inf, np.float32), "inf")
    assert "B-B_BBBBBBB.npy" in broken("feats/vgg19/B-B_BBBBBBB.npy", np.zeros((10, 3, 3, 3), np.float32), "mixed")

    root = make_avvp(tmp_path / "truncated")
    path = root / "feats" / "vggish" / "AAAAAAAAAAA.npy"
    path.write_bytes(path.read_bytes()[:100])
    assert "AAAAAAAAAAA.npy" in user_error(whole(read_avvp), root, "val")
    path.unlink()
    assert "AAAAAAAAAAA.npy" in user_error(whole(read_avvp), root, "val")

    root = make_avvp(tmp_path / "labels")
    (root / "AVVP_val_pd.csv").write_text("filename\tevent_labels\nAAAAAAAAAAA_0_10\tSpeech,Kazoo\n")
    message = user_error(whole(read_avvp), root, "val")
    assert "AVVP_val_pd.csv:2" in message and "Kazoo" in message
    (root / "AVVP_val_pd.csv").write_text("filename,event_labels\nAAAAAAAAAAA_0_10,Speech\n")
    assert "AVVP_val_pd.csv" in user_error(whole(read_avvp), root, "val")
    (root / "AVVP_eval_audio.csv").write_text("filename\tonset\toffset\tevent_labels\nAAAAAAAAAAA_0_10\t5\t12\tSpeech\n")
    assert "AVVP_eval_audio.csv:2" in user_error(read_avvp_eval_csv, root / "AVVP_eval_audio.csv")
    (root / "AVVP_eval_visual.csv").unlink()
    (root / "AVVP_val_pd.csv").write_text("filename\tevent_labels\nAAAAAAAAAAA_0_10\tSpeech\n")
    (root / "AVVP_eval_audio.csv").write_text("filename\tonset\toffset\tevent_labels\n")
    assert "AVVP_eval_visual.csv" in user_error(whole(read_avvp), root, "val")


def test_corpus_errors(tmp_path: Path) -> None:
    root = tmp_path / "corpus"
    root.mkdir()
    (root / "video_ids.txt").write_text("a\nb\n")
    rng = np.random.default_rng(0)
    write_h5(root / "audio_feature.h5", "avadataset", rng.standard_normal((2, 10, 4)).astype(np.float32))
    write_h5(root / "visual_feature.h5", "avadataset", rng.standard_normal((2, 10, 2, 2, 3)).astype(np.float32))
    clips = read_corpus(root)
    assert clips.text is None and "events" not in clips.labels and clips.visual.shape == (2, 10, 2, 2, 3)

    (root / "captions.tsv").write_text("video_id\tcaption\na\ta dog barking\n")
    assert "captions.tsv" in user_error(whole(read_corpus), root)
    (root / "captions.tsv").write_text("video_id\tcaption\nb\ta cat\na\ta dog barking\n")
    assert read_corpus(root).text == ["a dog barking", "a cat"]

    with h5py.File(root / "events.h5", "w") as f:
        f.create_dataset("events", data=np.zeros((2, 10, 3), np.uint8)).attrs["class_names"] = ["x", "y"]
    assert "events.h5" in user_error(whole(read_corpus), root)
    write_h5(root / "visual_feature.h5", "avadataset", rng.standard_normal((3, 10, 2, 2, 3)).astype(np.float32))
    assert "visual_feature.h5" in user_error(whole(read_corpus), root)
    (root / "video_ids.txt").unlink()
    assert "video_ids.txt" in user_error(whole(read_corpus), root)

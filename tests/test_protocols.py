"""Named protocols: each task's clean default and the reference's own (`<task>.protocol=cmg`), the
selection CMG makes checked on its real files, and the synthetic world writing the same files by the
same rule."""
from __future__ import annotations

import shutil
from pathlib import Path

import h5py
import numpy as np
import pytest

from avtbench import config as cfg
from avtbench.api import Direction
from avtbench.synth.profiles import profile_sizes
from avtbench.synth.world import generate_dataset
from avtbench.testing import check_task
from avtbench_plugins.datasets.ave.reader import ave_avvp_labels, ave_avvp_rows, read_ave, read_ave_annotations, read_ave_rows
from avtbench_plugins.datasets.ave.vocab import AVE_AVVP_SHARED
from avtbench_plugins.datasets.avvp.reader import CMG_LISTS, read_avvp, read_avvp_rows
from avtbench_plugins.datasets.avvp.vocab import AVVP_CLASSES
from avtbench_plugins.tasks.ave.task import AVE, AVEConfig
from avtbench_plugins.tasks.ave_avvp.task import AVEAVVP, AVEAVVPConfig
from avtbench_plugins.tasks.avvp.task import AVVP, AVVPConfig

from .conftest import REAL_DATA, user_error

SHARED_AVVP = {v for _, v in AVE_AVVP_SHARED}


@pytest.fixture(scope="module")
def real() -> Path:
    if not (REAL_DATA / "cmg").is_dir():
        pytest.skip(f"real annotation files not found at {REAL_DATA}")
    return REAL_DATA


def events_of(labels: np.ndarray) -> dict[str, list[int]]:
    """{class: active segments} of one [25, 10] label array."""
    return {AVVP_CLASSES[k]: np.flatnonzero(labels[k]).tolist() for k in np.flatnonzero(labels.any(axis=1))}


# ---- configs -------------------------------------------------------------------------------


def test_protocols_are_declared_choices_with_clean_defaults() -> None:
    assert AVEConfig().protocol == "clean" and AVVPConfig().protocol == "split" and AVEAVVPConfig().protocol == "clean"
    for cls, section in ((AVEConfig, "ave"), (AVVPConfig, "avvp"), (AVEAVVPConfig, "ave_avvp")):
        assert "cmg" in cfg.declared_range(cls, "protocol").choices
        assert f"{section}.protocol" in user_error(cfg.build, cls, {"protocol": "nope"}, section)
    assert cfg.declared_range(AVVPConfig, "protocol").choices == ("split", "pooled", "cmg")


def test_ave_avvp_epochs_follow_the_protocol_unless_set() -> None:
    assert cfg.build(AVEAVVPConfig, {}, "ave_avvp").epochs == 30
    assert cfg.build(AVEAVVPConfig, {"protocol": "cmg"}, "ave_avvp").epochs == 50
    assert cfg.build(AVEAVVPConfig, {"protocol": "cmg", "epochs": 7}, "ave_avvp").epochs == 7
    assert "ave_avvp.epochs" in user_error(cfg.build, AVEAVVPConfig, {"epochs": 0}, "ave_avvp")
    # the recorded config holds the number, and the protocol: two protocols, two configs (two cell hashes)
    assert cfg.to_dict(cfg.build(AVEAVVPConfig, {"protocol": "cmg"}, "ave_avvp"))["epochs"] == 50
    assert cfg.to_dict(AVEConfig()) != cfg.to_dict(AVEConfig(protocol="cmg"))


def test_what_each_protocol_trains_and_tests_on() -> None:
    v2a, a2v = Direction.parse("v2a"), Direction.parse("a2v")
    assert AVE(AVEConfig()).needs(v2a, {}) == [("train", "visual"), ("test", "audio"), ("test", "visual")]
    assert AVE(AVEConfig(protocol="cmg")).needs(v2a, {}) == [("train", "visual"), ("train", "audio")]
    official = [("test", "audio"), ("test", "visual")]
    assert AVVP(AVVPConfig()).needs(v2a, {}) == [("val", "visual"), ("test", "audio"), ("test", "visual")]
    assert AVVP(AVVPConfig(protocol="pooled")).needs(v2a, {}) == [("val", "visual"), ("test", "visual"), ("val", "audio"),
                                                                 ("test", "audio")]
    # CMG's avvp.py, avvp_va: train on the visual list (visual features), test on the audio list (audio features)
    assert AVVP(AVVPConfig(protocol="cmg")).needs(v2a, {}) == [("cmg_eval_visual", "visual"), ("cmg_eval_audio", "audio"),
                                                              *official]
    assert AVVP(AVVPConfig(protocol="cmg")).needs(a2v, {})[:2] == [("cmg_eval_audio", "audio"), ("cmg_eval_visual", "visual")]
    assert AVEAVVP(AVEAVVPConfig()).needs(v2a, {}) == [("ave_train", "visual"), ("avvp_val", "audio"), ("avvp_test", "audio")]
    assert AVEAVVP(AVEAVVPConfig(protocol="cmg")).needs(v2a, {}) == [("ave_train", "visual"), ("cmg_ave_avvp_audio", "audio")]


# ---- CMG's selection on the real files -----------------------------------------------------


@pytest.fixture(scope="module")
def real_avvp_root(real: Path, tmp_path_factory) -> Path:
    """An AVVP folder as a real root holds it: the release CSVs, CMG's lists beside them, and (made-up)
    features for every video the lists name."""
    root = tmp_path_factory.mktemp("avvp-real")
    for name in ("AVVP_train.csv", "AVVP_val_pd.csv", "AVVP_test_pd.csv", "AVVP_eval_audio.csv", "AVVP_eval_visual.csv"):
        shutil.copy(real / "avvp" / name, root / name)
    for file, _ in CMG_LISTS.values():
        shutil.copy(real / "cmg" / file, root / file)
    ids = sorted({n[:11] for split in CMG_LISTS for n in read_avvp_rows(root, split)[0]} |
                 {n[:11] for n in read_avvp_rows(root, "test")[0]})
    for sub, shape in (("vggish", (10, 2)), ("vgg19", (10, 3))):
        (root / "feats" / sub).mkdir(parents=True)
        for i, vid in enumerate(ids):
            np.save(root / "feats" / sub / f"{vid}.npy", np.full(shape, i, dtype=np.float32))
    return root


def test_cmg_avvp_lists_real_selection(real_avvp_root: Path) -> None:
    counts = {split: len(read_avvp_rows(real_avvp_root, split)[0]) for split in CMG_LISTS}
    assert counts == {"cmg_eval_audio": 1846, "cmg_eval_visual": 1661, "cmg_ave_avvp_audio": 1085, "cmg_ave_avvp_visual": 1032}
    names, labels = read_avvp_rows(real_avvp_root, "cmg_eval_audio")
    assert set(labels) == {"video", "audio"} and labels["audio"].shape == (1846, 25, 10)
    assert len(set(names)) == 1844  # two videos on two rows each: two clips each, as CMG's Dataset reads rows
    assert events_of(labels["audio"][names.index("KSRjje7GH44_60_70")]) == {"Speech": list(range(8)), "Blender": [8, 9]}
    twice = [i for i, n in enumerate(names) if n == "JR09cQfpjqE_30_40"]
    assert [events_of(labels["audio"][i]) for i in twice] == [{"Violin_fiddle": [4, 5, 6, 7, 8, 9]}, {"Speech": [1, 2, 3, 4]}]
    assert events_of(labels["audio"][names.index("H5WcJwyjxIg_2_12")]) == {}  # its one event has onset == offset
    assert "KvIjsmANkxI_10_20`" in names  # CMG's typo, kept: its features are the 11-char id's
    vnames, vlabels = read_avvp_rows(real_avvp_root, "cmg_eval_visual")
    assert set(vlabels) == {"video", "visual"} and len(set(vnames)) == 1661
    assert events_of(vlabels["visual"][vnames.index("4YdbENYcIyE_23_33")]) == {"Baby_cry_infant_cry": list(range(10))}
    assert all(vlabels["visual"].any(axis=(1, 2)))  # only videos with a visual event
    for split in ("cmg_ave_avvp_audio", "cmg_ave_avvp_visual"):
        _, lab = read_avvp_rows(real_avvp_root, split)
        modality = CMG_LISTS[split][1]
        present = {AVVP_CLASSES[k] for k in np.flatnonzero(lab[modality].any(axis=(0, 2)))}
        assert present <= SHARED_AVVP and all(lab[modality].any(axis=(1, 2)))
    # CMG's AVE_AVVP list corrects two onsets of its AVVP list (Baue01N86wE_10_20 Dog 1-2, not 1-1)
    anames, alab = read_avvp_rows(real_avvp_root, "cmg_ave_avvp_audio")
    assert events_of(alab["audio"][anames.index("Baue01N86wE_10_20")]) == {"Dog": [1, 3, 4, 5, 9]}


def test_cmg_avvp_list_reads_features_by_the_11_char_id(real_avvp_root: Path) -> None:
    clips = read_avvp(real_avvp_root, "cmg_eval_audio")
    names, _ = read_avvp_rows(real_avvp_root, "cmg_eval_audio")
    assert clips.ids == names and clips.audio.shape == (1846, 10, 2) and clips.visual.shape == (1846, 10, 1, 1, 3)
    typo, plain = names.index("KvIjsmANkxI_10_20`"), names.index("KvIjsmANkxI_10_20")
    np.testing.assert_array_equal(clips.audio[typo], clips.audio[plain])


def test_a_missing_cmg_list_is_one_line_naming_it(real_avvp_root: Path, tmp_path: Path) -> None:
    root = tmp_path / "avvp"
    shutil.copytree(real_avvp_root, root, ignore=shutil.ignore_patterns("feats", "*combined.csv"))
    message = user_error(read_avvp, root, "cmg_eval_visual")
    assert "AVVP_eval_visual_checked_combined.csv" in message and "file not found" in message and "protocol=cmg" in message
    assert len(read_avvp_rows(root, "val")[0]) == 649  # the release splits do not need them


def test_cmg_ave_avvp_rows_real(real: Path, tmp_path: Path) -> None:
    root = tmp_path / "ave"
    root.mkdir()
    for name in ("Annotations.txt", "train_order.h5", "val_order.h5", "test_order.h5"):
        shutil.copy(real / "ave" / name, root / name)
    assert "ave_avvp_order.h5" in user_error(read_ave_rows, root, "ave_avvp")
    shutil.copy(real / "cmg" / "ave_avvp_order.h5", root)
    assert "ave_avvp_labels.h5" in user_error(read_ave_rows, root, "ave_avvp")
    shutil.copy(real / "cmg" / "ave_avvp_labels.h5", root)
    order, ids, labels = read_ave_rows(root, "ave_avvp")
    assert len(order) == 1831 and labels["ave_avvp"].shape == (1831, 10, 13) and labels["segment"].shape == (1831, 10, 29)
    splits = {s: set(read_ave_rows(root, s)[0].tolist()) for s in ("train", "val", "test")}
    assert [len(set(order.tolist()) & splits[s]) for s in ("train", "val", "test")] == [1475, 178, 178]
    # CMG's rows and labels are those of every shared-class row (what the synthetic world writes)
    rows = read_ave_annotations(root / "Annotations.txt")
    np.testing.assert_array_equal(ave_avvp_rows(rows), order)
    with h5py.File(root / "ave_avvp_labels.h5") as f:
        np.testing.assert_array_equal(ave_avvp_labels(rows), f["avadataset"][()])
    assert ids[0] == rows[order[0]].video_id and rows[order[0]].category in {a for a, _ in AVE_AVVP_SHARED}
    first = labels["ave_avvp"][0]
    column = [a for a, _ in AVE_AVVP_SHARED].index(rows[order[0]].category)
    assert first[rows[order[0]].start, column] == 1 and first.sum() == 10
    # the whole reader, on made-up features of the release's row count
    with h5py.File(root / "audio_feature.h5", "w") as f:
        f["avadataset"] = np.zeros((4143, 10, 2), np.float32)
    with h5py.File(root / "visual_feature.h5", "w") as f:
        f["avadataset"] = np.zeros((4143, 10, 3), np.float32)
    clips = read_ave(root, "ave_avvp")
    assert len(clips) == 1831 and clips.visual.shape == (1831, 10, 1, 1, 3)


# ---- the synthetic world writes the same files by the same rule -----------------------------


@pytest.fixture(scope="module")
def synth(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("synth-protocols")
    for name in ("ave", "avvp"):
        generate_dataset(root / name, name, profile_sizes("tiny"), 0, raw_level=False)
    return root


def test_synthetic_cmg_lists_follow_cmgs_rule(synth: Path) -> None:
    val, test = read_avvp_rows(synth / "avvp", "val"), read_avvp_rows(synth / "avvp", "test")
    names = val[0] + test[0]
    for split, (file, modality) in CMG_LISTS.items():
        assert (synth / "avvp" / file).read_text().startswith("filename\tonset\toffset\tevent_labels\n")
        events = np.concatenate([val[1][modality], test[1][modality]])
        if "ave_avvp" in split:
            events = events * np.isin(AVVP_CLASSES, sorted(SHARED_AVVP))[None, :, None]
        keep = np.flatnonzero(events.any(axis=(1, 2)))
        listed, labels = read_avvp_rows(synth / "avvp", split)
        assert listed == [names[i] for i in keep] and len(listed) > 0
        np.testing.assert_array_equal(labels[modality], events[keep])


def test_synthetic_ave_avvp_files_follow_cmgs_rule(synth: Path) -> None:
    rows = read_ave_annotations(synth / "ave" / "Annotations.txt")
    order, _, labels = read_ave_rows(synth / "ave", "ave_avvp")
    np.testing.assert_array_equal(order, ave_avvp_rows(rows))
    np.testing.assert_array_equal(labels["ave_avvp"], ave_avvp_labels(rows)[order])
    assert 0 < len(order) < len(rows)


@pytest.mark.parametrize("task, settings", [(AVE, {"protocol": "cmg"}), (AVVP, {"protocol": "cmg"}),
                                            (AVVP, {"protocol": "pooled"}), (AVEAVVP, {"protocol": "cmg"})])
def test_cmg_protocols_run_on_the_synthetic_world(task, settings, session_cache: Path, one_thread) -> None:
    check_task(task, settings, cache_dir=session_cache).assert_passed()

"""The synthetic world: deterministic, atomic, readable by the real readers, and discriminating."""
from __future__ import annotations

import hashlib
import os
import re
import subprocess
import threading
from pathlib import Path

import numpy as np
import pytest

from .conftest import tiny_world_root
from avtbench.api import UserError
from avtbench.data.files import read_h5
from avtbench.atomic import _temp_prefix
from avtbench.synth import world as world_module
from avtbench.synth.vocab import EVENT_CLASSES, PHRASES
from avtbench.synth.world import GENERATOR_VERSION, PROFILES, ensure_world
from avtbench_plugins.datasets.ave import synthetic as ave_copy
from avtbench_plugins.datasets.ave.reader import read_ave, read_ave_annotations
from avtbench_plugins.datasets.ave.vocab import AVE_CLASSES
from avtbench_plugins.datasets.avvp import synthetic as avvp_copy
from avtbench_plugins.datasets.avvp.reader import read_avvp
from avtbench_plugins.datasets.avvp.vocab import AVVP_CLASSES
from avtbench_plugins.datasets.corpus import synthetic as corpus_copy
from avtbench_plugins.datasets.corpus.reader import read_corpus

TINY = PROFILES["tiny"].world
CORPUS, AVE, AVVP = (m.SIZES["tiny"] for m in (corpus_copy, ave_copy, avvp_copy))


@pytest.fixture(scope="module")
def tiny(session_cache: Path) -> Path:
    """The session's tiny world (shared with the CLI and raw-level tests: generated once)."""
    return tiny_world_root(session_cache)


@pytest.fixture(scope="module")
def default(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default world's feature level (its raw level costs ~20 s and is not needed here)."""
    root = tmp_path_factory.mktemp("synth") / "default"
    world_module.generate_world(root, PROFILES["default"], 0, raw_level=False)
    return root


def file_hashes(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path: Path, tiny: Path) -> None:
    again = file_hashes(ensure_world(tmp_path / "again", "tiny", 0))
    assert again == file_hashes(tiny)  # .wav and .png included: no timestamps in them
    for kind in ("audio/", "frames/", "masks/"):
        assert all(any(k.startswith(f"{d}/raw/{kind}") for k in again) for d in ("corpus", "ave", "avvp", "retrieval"))
    # the raw level draws from its own streams: without it, the feature level is byte for byte the same
    world_module.generate_world(tmp_path / "features", PROFILES["tiny"], 0, raw_level=False)
    assert file_hashes(tmp_path / "features") == {k: v for k, v in again.items()
                                                  if "/raw/" not in k and k != "COMPLETE" and not k.endswith("SIZES.json")}
    world_module.generate_world(tmp_path / "other", PROFILES["tiny"], 1, raw_level=False)
    other = file_hashes(tmp_path / "other")
    assert other.keys() != again.keys()  # other ids, so other AVVP feature file names
    for name in ("corpus/audio_feature.h5", "ave/visual_feature.h5", "ave/Annotations.txt", "avvp/AVVP_train.csv", "ave/captions.tsv"):
        assert other[name] != again[name]


def test_unknown_profile_names_the_valid_ones(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="tiny, default, easy, paper"):
        ensure_world(tmp_path / "w", "huge", 0)
    assert not any(tmp_path.iterdir())


def test_corpus_round_trip(tiny: Path) -> None:
    clips = read_corpus(tiny / "corpus").materialized()
    n, T = CORPUS.clips, TINY.segments
    assert clips.audio.shape == (n, T, TINY.audio_dim) and clips.visual.shape == (n, T, TINY.grid, TINY.grid, TINY.channels)
    assert clips.class_names == EVENT_CLASSES and clips.labels["events"].shape == (n, T, len(EVENT_CLASSES))
    events = clips.labels["events"]
    assert events.max() == 3 and (events.reshape(n, -1) > 0).any(1).all()  # every clip has an event
    assert all(len(c) == 3 and c[0] == t for c, t in zip(clips.captions, clips.text))  # several captions per clip
    for captions, clip_events in zip(clips.captions, events):
        for k in np.flatnonzero(clip_events.any(0)):
            assert all(PHRASES[EVENT_CLASSES[k]] in caption for caption in captions)


def test_ave_round_trip(tiny: Path) -> None:
    rows = read_ave_annotations(tiny / "ave" / "Annotations.txt")
    assert (tiny / "ave" / "Annotations.txt").read_text().startswith("Category&VideoID&Quality&StartTime&EndTime\n")
    orders = [read_h5(tiny / "ave" / f"{s}_order.h5", "order", "") for s in ("train", "val", "test")]
    assert [len(o) for o in orders] == list(AVE.splits)
    assert sorted(np.concatenate(orders).tolist()) == list(range(len(rows)))
    for split, order in zip(("train", "val", "test"), orders):
        clips = read_ave(tiny / "ave", split).materialized()
        assert clips.audio.shape == (len(order), 10, TINY.audio_dim)
        assert clips.visual.shape == (len(order), 10, TINY.grid, TINY.grid, TINY.channels)
        segment = clips.labels["segment"]
        assert np.all(segment.sum(-1) == 1) and clips.class_names == AVE_CLASSES
        for i, row in enumerate(order):
            a = rows[row]
            assert clips.ids[i] == a.video_id and a.end - a.start >= 2
            assert segment[i, a.start : a.end, a.label].all() and segment[i, : a.start, 28].all() and segment[i, a.end :, 28].all()


def test_avvp_round_trip(tiny: Path) -> None:
    for split, count in zip(("train", "val", "test"), AVVP.splits):
        clips = read_avvp(tiny / "avvp", split).materialized()
        assert len(clips) == count and clips.class_names == AVVP_CLASSES
        assert all(re.fullmatch(r"[A-Za-z0-9_-]{11}_\d+_\d+", name) for name in clips.ids)
        assert clips.audio.shape == (count, 10, TINY.audio_dim)
        assert clips.visual.shape == (count, 10, TINY.grid, TINY.grid, TINY.channels)
        events = clips.labels["video"].sum(1)
        assert events.min() >= 1 and events.max() <= 3
        if split != "train":
            heard, seen = clips.labels["audio"], clips.labels["visual"]
            np.testing.assert_array_equal(clips.labels["video"], (heard | seen).any(-1))
            for labels in (heard, seen):  # one contiguous range per event
                starts = np.diff(np.pad(labels.astype(int), ((0, 0), (0, 0), (1, 0))), axis=-1) == 1
                assert starts.sum(-1).max() <= 1


@pytest.fixture
def features_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """ensure_world without the raw level: these tests are about publishing, and raw costs ~2 s per world."""
    generate = world_module.generate_world
    monkeypatch.setattr(world_module, "generate_world", lambda root, sizes, seed, **kw: generate(root, sizes, seed, raw_level=False, **kw))


def test_leftover_temp_and_incomplete_folder_do_not_break_generation(tmp_path: Path, features_only: None) -> None:
    target = tmp_path / "w"
    dead = _dead_pid()
    leftover = tmp_path / f"{_temp_prefix(target)}{dead}-abc"
    (leftover / "ave").mkdir(parents=True)
    (leftover / "ave" / "audio_feature.h5").write_bytes(b"half a file")
    running = tmp_path / f"{_temp_prefix(target)}{os.getpid()}-xyz"
    running.mkdir()
    (target / "ave").mkdir(parents=True)  # a half world without COMPLETE
    (target / "ave" / "junk").write_text("x")

    assert ensure_world(target, "tiny", 0) == target
    assert (target / "COMPLETE").exists() and not (target / "ave" / "junk").exists()
    assert read_ave(target / "ave", "test").audio.shape[0] == AVE.splits[2]
    assert not leftover.exists()  # its generator is dead
    assert running.exists()  # a generation in progress is left alone


def test_complete_world_is_reused_and_races_resolve(tmp_path: Path, features_only: None) -> None:
    target = tmp_path / "w"
    results: list[Path] = []
    threads = [threading.Thread(target=lambda: results.append(ensure_world(target, "tiny", 2))) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [target, target]
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix != ".lock") == ["w"]  # no temp left behind
    assert f'"generator": "{GENERATOR_VERSION}"' in (target / "COMPLETE").read_text()
    (target / "marker").write_text("kept")
    ensure_world(target, "tiny", 2)
    assert (target / "marker").exists()


def _dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def _ridge(x: np.ndarray, y: np.ndarray, classes: int = 29, lam: float = 1.0):
    """Least-squares one-vs-all head on standardised features."""
    mu, sd = x.mean(0), x.std(0) + 1e-6
    design = lambda z: np.c_[(z - mu) / sd, np.ones(len(z))]  # noqa: E731
    a = design(x)
    w = np.linalg.solve(a.T @ a + lam * np.eye(a.shape[1]), a.T @ np.eye(classes)[y])
    return lambda z: (design(z) @ w).argmax(1)


def _segments(clips, modality: str, projection: np.ndarray | None = None) -> np.ndarray:
    x = clips.audio if modality == "audio" else clips.visual.mean(axis=(2, 3))
    x = x.reshape(-1, x.shape[-1])
    return x if projection is None else x @ projection


def test_default_world_discriminates(default: Path) -> None:
    """Supervised on the same modality: high. Trained on visual, tested on audio (common random
    projection, no alignment): near chance on event segments (1/28)."""
    train, test = read_ave(default / "ave", "train").materialized(), read_ave(default / "ave", "test").materialized()
    y_train = train.labels["segment"].reshape(-1, 29).argmax(1)
    y_test = test.labels["segment"].reshape(-1, 29).argmax(1)
    event = y_test != 28
    for modality in ("audio", "visual"):
        head = _ridge(_segments(train, modality), y_train)
        assert (head(_segments(test, modality)) == y_test).mean() > 0.8, modality
    rng = np.random.default_rng(0)
    project = {"audio": rng.standard_normal((train.audio.shape[-1], 32)), "visual": rng.standard_normal((train.visual.shape[-1], 32))}
    for source, target in (("visual", "audio"), ("audio", "visual")):
        head = _ridge(_segments(train, source, project[source]), y_train)
        predicted = head(_segments(test, target, project[target]))
        assert (predicted[event] == y_test[event]).mean() < 0.12, f"{source}->{target}"


def _tree_digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and p.name != "COMPLETE"}


def test_one_dataset_at_one_level_is_written_alone_with_the_whole_worlds_bytes(tmp_path: Path, tiny: Path) -> None:
    from avtbench.synth.world import ensure_dataset

    world = tmp_path / "lazy"
    avvp = ensure_dataset(world, "avvp", "tiny", 0, "features")
    assert sorted(p.name for p in world.iterdir() if not p.name.startswith(".")) == ["avvp"]
    assert not (avvp / "raw").exists()
    whole = _tree_digest(tiny / "avvp")
    assert _tree_digest(avvp) == {k: v for k, v in whole.items() if not k.startswith("raw/")}
    ensure_dataset(world, "avvp", "tiny", 0, "raw")  # the raw level added later, beside the features
    assert _tree_digest(avvp) == whole
    retrieval = ensure_dataset(world, "retrieval", "tiny", 0, "raw")  # both levels at once, the last dataset
    assert _tree_digest(retrieval) == _tree_digest(tiny / "retrieval")
    assert not [p for p in world.rglob(".*tmp*")], "no temporary folder is left behind"


def test_feature_files_are_chunked_by_clip(tiny: Path) -> None:
    """A reader that wants a few clips reads only their chunks."""
    import h5py

    for name in ("ave/audio_feature.h5", "ave/visual_feature.h5", "corpus/visual_feature.h5"):
        with h5py.File(tiny / name, "r") as f:
            ds = f["avadataset"]
            assert ds.chunks == (1, *ds.shape[1:]), name

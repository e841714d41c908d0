"""The synthetic world's avs_s4: the release layout, read back by the real reader; deterministic; the
sounding object cannot be told by sight alone (the datasets before it keep their
contents: pinned per dataset in `test_world_everywhere`)."""
from __future__ import annotations

import csv
import dataclasses
import hashlib
from pathlib import Path

import numpy as np
import pytest
import soundfile

from avtbench.api import Direction, SilentProgress
from avtbench.synth import raw
from avtbench.synth.model import World
from avtbench.synth.provider import SyntheticWorld
from avtbench.synth.vocab import class_index
from avtbench.synth.world import PROFILES, generate_dataset
from avtbench_plugins.datasets.avs_s4.reader import read_s4
from avtbench_plugins.datasets.avs_s4.synthetic import (FRAME_GRID, OBJECT_SCALE, S4_CATEGORIES, S4_PHRASES, S4_STAND_INS, SIZES,
                                                        S4Sizes, s4_events)
from avtbench_plugins.datasets.avs_s4.vocab import CATEGORIES
from avtbench_plugins.tasks.avs_s4.task import AVSS4, AVSS4Config


TINY = PROFILES["tiny"].world
S4 = SIZES["tiny"]


@pytest.fixture(scope="module")
def tiny(session_cache: Path) -> Path:
    return SyntheticWorld("tiny", 0, session_cache).root("avs_s4", "raw")


def hashes(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.rglob("*")) if p.is_file()}


def test_vocabulary_and_stand_ins() -> None:
    assert S4_CATEGORIES == CATEGORIES
    assert len({class_index(k) for k in S4_STAND_INS.values()}) == 23  # 23 distinct event classes
    assert SyntheticWorld("tiny", 0, Path("unused")).descriptions("avs_s4")["dog_barking"] == S4_PHRASES["dog_barking"] == "a dog barking"


def test_layout_is_read_back_by_the_real_reader(tiny: Path) -> None:
    rows = list(csv.reader((tiny / "s4_meta_data.csv").open()))
    assert rows[0] == ["name", "start_time", "category", "split"] and len(rows) == 1 + sum(S4.splits)
    size = S4.frame_size
    for split, count in zip(("train", "val", "test"), S4.splits):
        clips = read_s4(tiny, split)
        assert len(clips) == count and clips.audio.shape == (count, 5, TINY.audio_dim)
        assert clips.labels["frames"].shape == (count, 5, size, size, 3)
        annotated = clips.labels["annotated"]
        assert annotated[:, 0].all() and annotated[:, 1:].all() == (split != "train")
        assert clips.labels["masks"][:][annotated].reshape(annotated.sum(), -1).any(1).all()  # the object is always seen
        assert clips.text == [S4_PHRASES[CATEGORIES[k]] for k in clips.labels["category"]]
        raw_level = read_s4(tiny, split, level="raw")
        assert raw_level.audio.shape == (count, 80000) and np.abs(raw_level.audio).max() > 0.01
        np.testing.assert_array_equal(raw_level.labels["masks"], clips.labels["masks"])
    name, _, category, split = next(r for r in rows[1:] if r[3] == "train")
    assert not (tiny / "s4_data" / "gt_masks" / split / category / name / f"{name}_2.png").exists()
    info = soundfile.info(str(tiny / "s4_data" / "audio_wav" / split / category / f"{name}.wav"))
    assert (info.samplerate, info.channels, info.frames, info.subtype) == (16000, 1, 80000, "PCM_16")


def test_same_seed_same_bytes_at_both_levels(tmp_path: Path) -> None:
    generate_dataset(tmp_path / "a", "avs_s4", PROFILES["tiny"], 0, raw_level=False)
    generate_dataset(tmp_path / "b", "avs_s4", PROFILES["tiny"], 0, raw_level=True)
    generate_dataset(tmp_path / "c", "avs_s4", PROFILES["tiny"], 1, raw_level=False)
    first = hashes(tmp_path / "a")
    assert first == hashes(tmp_path / "b") and (tmp_path / "b" / "raw").is_dir()
    assert first["s4_meta_data.csv"] != hashes(tmp_path / "c")["s4_meta_data.csv"]


def test_the_sounding_object_looks_like_the_distractors() -> None:
    """The target is drawn from the distractors' size, place and look distributions: by sight alone,
    the best a model can do is to segment every object, which scores low."""
    n, size = 400, 32
    world = World.create(TINY, 0)
    ev, _ = s4_events(np.random.default_rng(0), n)
    z = world.prototypes[np.maximum(ev.cls, 0)]
    smaller = dataclasses.replace(ev, gain=ev.gain * OBJECT_SCALE)
    _, masks = raw.render_frames(world.looks, smaller, z, world.prototypes, 5, FRAME_GRID, size, np.random.default_rng(1))
    label = raw.object_order(ev)
    target = masks[:, 0] == label[:, 0, None, None]
    every = masks[:, 0] > 0
    assert (target & every).sum((1, 2)).mean() / every.sum((1, 2)).mean() < 0.5
    area = np.array([[(masks[i, 0] == label[i, e]).sum() for e in range(ev.cls.shape[1])] for i in range(n)])
    seen = ev.cls >= 0
    assert abs(area[:, 0].mean() / area[:, 1:][seen[:, 1:]].mean() - 1) < 0.15
    assert abs(ev.where[:, 0].mean() - ev.where[:, 1:][seen[:, 1:]].mean()) < 0.15
    assert abs(ev.gain[:, 0].mean() - ev.gain[:, 1:][seen[:, 1:]].mean()) < 0.03


@pytest.mark.slow
def test_no_conditioning_scores_low_and_the_true_class_high(tmp_path: Path, one_thread: None) -> None:
    sizes = PROFILES["tiny"].replacing(avs_s4=S4Sizes((160, 16, 40), frame_size=S4.frame_size))
    generate_dataset(tmp_path, "avs_s4", sizes, 0, raw_level=False)
    splits = {s: read_s4(tmp_path, s) for s in ("train", "val", "test")}
    scores = {}
    for condition in ("none", "oracle"):
        task = AVSS4(AVSS4Config(condition=condition, epochs=12, width=8, lr=3e-3))
        scores[condition] = task.evaluate({}, splits, Direction.parse("a2t"), 0, "cpu", SilentProgress())["miou"]
    assert scores["none"] < 35 and scores["oracle"] > scores["none"] + 15, scores

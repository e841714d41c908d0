"""Datasets are plugins: the built-ins declare their synthetic copies, and a third-party dataset that
declares one runs with no data root, like the built-ins, without changing any other dataset's bytes."""
from __future__ import annotations

import dataclasses
import hashlib
import importlib.metadata
import json
import subprocess
from pathlib import Path

import pytest

from avtbench.api import Dataset, SyntheticCopy, UserError
from avtbench.cache import ArtifactCache
from avtbench.plan import data_resolver
from avtbench.plugins import Registry, discover
from avtbench.synth.copies import WorldDatasets
from avtbench.synth.provider import SyntheticWorld
from avtbench.synth.vocab import EVENT_CLASSES
from avtbench.synth.world import PROFILES, generate_dataset
from avtbench_plugins.datasets.ave.vocab import AVE_CLASSES
from avtbench_plugins.datasets.avvp.synthetic import STAND_INS
from avtbench_plugins.datasets.avvp.vocab import AVVP_CLASSES

from .conftest import avtbench_cmd, cli_env
from .third_party import install_dataset_distribution

BUILT_IN_ORDER = ["corpus", "ave", "avvp", "retrieval", "avs_s4"]


@pytest.fixture
def with_barks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Registry:
    """The installed plugins plus the third-party dataset `barks` (and its method `on_barks`)."""
    site = install_dataset_distribution(tmp_path / "site")
    monkeypatch.syspath_prepend(str(site))
    registry = discover(importlib.metadata.entry_points(group="avtbench"))
    assert registry.failures == []
    return registry


def folder_hashes(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.rglob("*")) if p.is_file()}


def test_the_built_in_datasets_share_the_id_stream_in_their_order() -> None:
    copies = WorldDatasets.of(discover().datasets)
    assert copies.names() == BUILT_IN_ORDER
    assert [c.id_order for c in copies.copies.values()] == [0, 1, 2, 3, 4]


def test_the_worlds_classes_are_aves_then_the_avvp_classes_ave_lacks() -> None:
    """The order of the world's event classes fixes its prototypes, and so its bytes."""
    avvp_only = [c for c in AVVP_CLASSES if c not in STAND_INS]
    assert EVENT_CLASSES[: len(AVE_CLASSES) + len(avvp_only)] == AVE_CLASSES + avvp_only
    assert len(EVENT_CLASSES) == 28 + 13 + 20


def test_a_third_party_dataset_is_written_and_read_with_no_data_root(with_barks: Registry, tmp_path: Path) -> None:
    barks = with_barks.dataset("barks")
    assert isinstance(barks.synthetic, SyntheticCopy) and SyntheticWorld("tiny", 0, tmp_path, datasets=with_barks.datasets).provides("barks")
    data = data_resolver(with_barks, {"data": {"profile": "tiny"}}, ArtifactCache(tmp_path / "cache"))
    source = data.source("barks")
    clips = source.read()
    assert source.origin == "synthetic world tiny/seed 0" and source.root.parent.parent.parent == tmp_path / "cache"
    assert len(clips) == 6 and clips.audio.shape == (6, 10, PROFILES["tiny"].world.audio_dim)
    assert source.describe("Bark") == "a dog barking"
    assert len(set(clips.ids)) == 6 and all(len(i) == 11 for i in clips.ids)


def test_a_third_party_dataset_takes_ids_from_its_own_stream(with_barks: Registry, tmp_path: Path) -> None:
    """Its ids do not depend on what else is installed, and the built-ins' bytes do not depend on it."""
    alone = WorldDatasets.of([with_barks.dataset("barks")])
    everything = WorldDatasets.of(with_barks.datasets)
    assert everything.names() == BUILT_IN_ORDER + ["barks"]
    tiny = PROFILES["tiny"]
    generate_dataset(tmp_path / "alone", "barks", tiny, 0, raw_level=False, datasets=alone)
    generate_dataset(tmp_path / "beside", "barks", tiny, 0, raw_level=False, datasets=everything)
    assert folder_hashes(tmp_path / "alone") == folder_hashes(tmp_path / "beside")
    builtins = WorldDatasets.of(discover().datasets)
    generate_dataset(tmp_path / "avvp", "avvp", tiny, 0, raw_level=False, datasets=builtins)
    generate_dataset(tmp_path / "avvp-beside", "avvp", tiny, 0, raw_level=False, datasets=everything)
    assert folder_hashes(tmp_path / "avvp") == folder_hashes(tmp_path / "avvp-beside")


def test_two_datasets_cannot_take_the_same_place_in_the_id_stream(with_barks: Registry) -> None:
    barks = with_barks.dataset("barks")
    assert barks.synthetic is not None
    usurper = dataclasses.replace(barks, synthetic=dataclasses.replace(barks.synthetic, id_order=0, ids_drawn=lambda s: s.clips))
    with pytest.raises(UserError, match="datasets 'barks' and 'corpus' both declare id_order 0"):
        WorldDatasets.of([*discover().datasets.values(), usurper])
    with pytest.raises(TypeError, match="ids_drawn"):
        SyntheticCopy(barks.synthetic.write, barks.synthetic.default_sizes, id_order=5)
    with pytest.raises(TypeError, match="must be an avtbench.api.SyntheticCopy"):
        Dataset("odd", "", barks.reader, synthetic=object())  # type: ignore[arg-type]


def test_a_cell_pretrains_on_a_third_party_dataset(tmp_path: Path) -> None:
    """`avtbench run` with no data root: the world writes `barks` for the method's pretraining (in a
    cache of its own: the session's tiny world is compared with a fresh one elsewhere)."""
    site = install_dataset_distribution(tmp_path / "site")
    results = tmp_path / "results"
    out = subprocess.run(avtbench_cmd("run", "-m", "on_barks", "-t", "retrieval", "-d", "a2v", "--set", "data.profile=tiny",
                                      "--results", str(results), "-q"),
                         capture_output=True, text=True, env=cli_env(tmp_path / "cache", site), timeout=300)
    assert out.returncode == 0, out.stderr
    record = json.loads(next(results.rglob("seed0-*.json")).read_text())
    assert record["pretrain"]["stats"] == {"corpus_clips": 6}, record["pretrain"]

"""The built-in plugins, end to end on a small world read from disk as real data: the supervised
oracle and unified_vq transfer a head across modalities, the unaligned lower bound does not."""
from __future__ import annotations


import pytest

from avtbench.cache import ArtifactCache
from avtbench.plan import make_plan
from avtbench.plugins import registry
from avtbench.recording import record_cell
from avtbench.runner import Runner
from avtbench.store import ResultStore
from avtbench.synth.world import PROFILES, generate_world
from avtbench_plugins.datasets.ave.synthetic import AveSizes
from avtbench_plugins.datasets.avvp.synthetic import AvvpSizes
from avtbench_plugins.datasets.corpus.synthetic import CorpusSizes

pytestmark = pytest.mark.slow  # trains three methods on a small default-sized world (about 25 s)

SMALL = PROFILES["default"].replacing(corpus=CorpusSizes(1000, raw_clips=1000), ave=AveSizes((280, 40, 120)),
                                      avvp=AvvpSizes((20, 6, 6)), retrieval=CorpusSizes(10))
UNIFIED_VQ = dict(epochs=6, codebook_size=64, embedding_dim=64, semantic_ff_dim=128, audio_hidden=64, club_hidden=64,
                  club_positions=64, cpc_context_dim=64, batch_size=32, lr=1e-3)
"""A smaller unified_vq than the default, so that the test takes seconds (the default: ~50 s)."""


@pytest.fixture(scope="module")
def accuracy(tmp_path_factory: pytest.TempPathFactory, one_thread: None) -> dict[str, float]:
    tmp = tmp_path_factory.mktemp("ranking")
    generate_world(tmp / "world", SMALL, 0, raw_level=False)
    document = {"data": {"root": str(tmp / "world")}, "unified_vq": UNIFIED_VQ, "ave": {"epochs": 15}}
    cache = ArtifactCache(tmp / "cache")
    plan = make_plan(registry(), ["unaligned", "oracle", "unified_vq", "cca"], ["ave"], ["a2v"], [0], document, cache)
    runner, store = Runner(cache, plan.data), ResultStore(tmp / "results")
    records = [record_cell(store, runner, p) for p in plan.cells]
    assert all(r.sources == {"corpus": "real", "ave": "real"} for r in records)
    return {r.method: r.main_value for r in records}


def test_oracle_beats_unaligned_on_ave_a2v(accuracy: dict[str, float]) -> None:
    assert accuracy["oracle"] > accuracy["unaligned"] + 15


def test_unified_vq_beats_unaligned_on_ave_a2v(accuracy: dict[str, float]) -> None:
    assert accuracy["unified_vq"] > accuracy["unaligned"] + 10


def test_linear_cca_beats_unaligned_on_ave_a2v(accuracy: dict[str, float]) -> None:
    assert accuracy["cca"] > accuracy["unaligned"] + 5

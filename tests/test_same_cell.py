"""A cell's result does not depend on whether its checkpoint and embeddings came from the cache."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from avtbench.cache import ArtifactCache
from avtbench.plan import make_plan
from avtbench.plugins import registry
from avtbench.recording import record_cell
from avtbench.runner import Runner
from avtbench.store import ResultStore

from .conftest import tiny_world_root

CELLS = [("unaligned", "ave", "a2v"), ("oracle", "avvp", "v2a"), ("unified_vq", "avvp", "v2a"),
         ("unified_vq", "ave_avvp", "a2v"), ("vip_ant", "ave", "v2a")]


@pytest.mark.parametrize("method, task, direction", CELLS)
def test_fresh_and_cached_runs_of_a_cell_record_identical_metrics(method, task, direction, tmp_path: Path,
                                                                   session_cache: Path, one_thread: None) -> None:
    world = tiny_world_root(session_cache)
    cache = ArtifactCache(tmp_path / "cache")
    shutil.copytree(world, cache.root / world.relative_to(session_cache), copy_function=__import__("os").link)
    document = {"data": {"profile": "tiny"}, method: {"preset": "tiny"} if method in ("unified_vq", "vip_ant") else {},
                task: {"epochs": 5}}
    plan = make_plan(registry(), [method], [task], [direction], [0], document, cache)
    fresh = record_cell(ResultStore(tmp_path / "fresh"), Runner(cache, plan.data), plan.cells[0])
    assert fresh.pretrain.cached is False
    shutil.rmtree(cache.root / "embeddings")
    from_checkpoint = record_cell(ResultStore(tmp_path / "checkpoint"), Runner(cache, plan.data), plan.cells[0])
    from_embeddings = record_cell(ResultStore(tmp_path / "embeddings"), Runner(cache, plan.data), plan.cells[0])
    assert from_checkpoint.pretrain.cached is True
    assert from_checkpoint.metrics == fresh.metrics
    assert from_embeddings.metrics == fresh.metrics

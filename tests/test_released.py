"""A released checkpoint evaluated without pretraining (`Method.released_checkpoint` / `load_released`):
the plan checks the file and keys the cell by its sha256, the runner loads it instead of pretraining."""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from avtbench import plan as plan_module
from avtbench.cache import ArtifactCache
from avtbench.cli import main
from avtbench.plan import make_plan
from avtbench.record import CellRecord
from avtbench.recording import record_cell
from avtbench.runner import Runner
from avtbench.store import ResultStore

from .conftest import user_error
from .third_party import installed_registry, write_dist_info

RELEASED_PLUGIN = '''
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from avtbench.api import Clips, Dataset, Method, MethodState, Task, UserError
from avtbench.hookspecs import hookimpl


def read_rel(root, split, level="features"):
    audio = np.load(Path(root) / f"{split}.npy", allow_pickle=False)
    return Clips(ids=[str(i) for i in range(len(audio))], audio=audio, visual=audio[:, :, None, None, :],
                 labels={"y": np.zeros(len(audio), dtype=np.int64)}, class_names=["Only"])


RELSET = Dataset("relset", "test.npy: float [N, T, D]", read_rel, ("test",), ("Only",))


@dataclass
class RelConfig:
    checkpoint: str = ""
    scale: float = 1.0


class RelMethod(Method):
    name = "rel_method"
    version = "1"
    config_class = RelConfig

    @classmethod
    def released_checkpoint(cls, config):
        return config.checkpoint or None

    def pretrain(self, corpus, workdir, progress):
        raise AssertionError("a released checkpoint must not be pretrained")

    def load_released(self, path):
        self.weight = torch.from_numpy(np.load(path, allow_pickle=False))
        return {"weight_norm": float(self.weight.norm())}

    def encode(self, modality, batch):
        return torch.as_tensor(batch).float() @ self.weight * self.config.scale

    def state(self):
        return MethodState({"weight": self.weight})

    def load_state(self, state):
        self.weight = state.tensors["weight"]


class RelTask(Task):
    name = "rel_task"
    version = "1"
    directions = ("a2v",)
    main_metric = "mean"
    datasets = ("relset",)

    def splits(self, data):
        return {"test": data["relset"].read("test")}

    def needs(self, direction, splits):
        return [("test", "audio")]

    def evaluate(self, embeddings, splits, direction, seed, device, progress):
        return {"mean": float(np.asarray(embeddings[("test", "audio")]).mean())}


@hookimpl
def avtbench_datasets():
    return [RELSET]


@hookimpl
def avtbench_methods():
    return [RelMethod]


@hookimpl
def avtbench_tasks():
    return [RelTask]
'''


@pytest.fixture
def rel_registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    site = tmp_path / "site"
    site.mkdir()
    (site / "rel_avt.py").write_text(RELEASED_PLUGIN)
    return installed_registry(write_dist_info(site, "rel_avt", {"rel": "rel_avt"}), monkeypatch)


def _files(tmp_path: Path, weight: np.ndarray | None = None) -> tuple[Path, Path]:
    root = tmp_path / "relset"
    root.mkdir(exist_ok=True)
    np.save(root / "test.npy", np.random.default_rng(0).standard_normal((5, 3, 4)).astype(np.float32))
    released = tmp_path / "released.npy"
    np.save(released, np.eye(4, dtype=np.float32) * 2 if weight is None else weight)
    return root, released


def _document(root: Path, checkpoint: Path | str, **method) -> dict:
    return {"data": {"relset_root": str(root), "profile": "tiny"}, "rel_method": {"checkpoint": str(checkpoint), **method}}


def test_a_released_checkpoint_that_is_not_there_is_a_plan_error(rel_registry, tmp_path: Path) -> None:
    root, _ = _files(tmp_path)
    cache = ArtifactCache(tmp_path / "cache")
    message = user_error(make_plan, rel_registry, ["rel_method"], ["rel_task"], [], [0],
                         _document(root, tmp_path / "nowhere.pth"), cache)
    assert "nowhere.pth" in message and "is not a file" in message
    assert not (tmp_path / "cache").exists()


def test_the_cell_is_keyed_by_the_files_sha256_and_nothing_is_pretrained(rel_registry, tmp_path: Path) -> None:
    root, released = _files(tmp_path)
    sha256 = hashlib.sha256(released.read_bytes()).hexdigest()
    cache = ArtifactCache(tmp_path / "cache")
    plan = make_plan(rel_registry, ["rel_method"], ["rel_task"], [], [0, 1], _document(root, released), cache)
    assert [p.checkpoint for p in plan.cells] == [sha256, sha256] and plan.cells[0].released == released.resolve()
    record = record_cell(ResultStore(tmp_path / "results"), Runner(cache, plan.data), plan.cells[0])
    assert record.pretrain.checkpoint == sha256 and record.pretrain.cached is False
    assert record.pretrain.released == {"path": str(released.resolve()), "sha256": sha256}
    assert record.pretrain.stats == {"weight_norm": pytest.approx(4.0)}
    assert not cache.has_checkpoint(sha256), "a released checkpoint is read, not copied into the cache"
    read_back = CellRecord.from_json(json.loads(json.dumps(record.to_json())))
    assert read_back.pretrain.released == record.pretrain.released and "loaded from the released file" in read_back.pretrain.describe()
    expected = float(np.load(root / "test.npy").mean() * 2)
    assert record.main_value == pytest.approx(expected, rel=1e-5)


def test_the_file_is_hashed_once_and_other_content_is_another_cell(rel_registry, tmp_path: Path, monkeypatch) -> None:
    root, released = _files(tmp_path)
    cache = ArtifactCache(tmp_path / "cache")
    reads = []
    real_open = open

    def counting_open(path, *args, **kwargs):
        if Path(path) == released.resolve():
            reads.append(path)
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(plan_module, "open", counting_open, raising=False)
    first = make_plan(rel_registry, ["rel_method"], ["rel_task"], [], [0, 1, 2], _document(root, released), cache)
    again = make_plan(rel_registry, ["rel_method"], ["rel_task"], [], [0], _document(root, released), cache)
    assert len(reads) == 1 and again.cells[0].cell.cell_hash == first.cells[0].cell.cell_hash
    before = released.stat().st_mtime_ns
    np.save(released, np.eye(4, dtype=np.float32) * 3)  # same size: the cache tells them apart by mtime
    os.utime(released, ns=(before + 10**9, before + 10**9))  # file times can be coarser than two writes
    changed = make_plan(rel_registry, ["rel_method"], ["rel_task"], [], [0], _document(root, released), cache)
    assert changed.cells[0].checkpoint != first.cells[0].checkpoint
    assert changed.cells[0].cell.cell_hash != first.cells[0].cell.cell_hash
    assert changed.cells[0].cell.method_hash != first.cells[0].cell.method_hash


def test_an_encoding_setting_is_not_served_another_settings_embeddings(rel_registry, tmp_path: Path) -> None:
    root, released = _files(tmp_path)
    cache = ArtifactCache(tmp_path / "cache")
    values = []
    for scale in (1.0, 3.0):
        plan = make_plan(rel_registry, ["rel_method"], ["rel_task"], [], [0], _document(root, released, scale=scale), cache)
        assert plan.cells[0].checkpoint == hashlib.sha256(released.read_bytes()).hexdigest()
        values.append(record_cell(ResultStore(tmp_path / f"results{scale}"), Runner(cache, plan.data), plan.cells[0]).main_value)
    assert values[1] == pytest.approx(3 * values[0], rel=1e-5)


def test_a_grid_runs_released_cells_without_a_pretraining_stage(rel_registry, tmp_path: Path, monkeypatch) -> None:
    root, released = _files(tmp_path)
    monkeypatch.setenv("AVTBENCH_CACHE", str(tmp_path / "cache"))
    args = ["run", "-m", "rel_method", "-t", "rel_task", "-s", "0,1", "--results", str(tmp_path / "results"), "-q",
            "--set", f"data.relset_root={root}", "--set", "data.profile=tiny", "--set", f"rel_method.checkpoint={released}"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    records = sorted((tmp_path / "results").rglob("seed*.json"))
    assert len(records) == 2
    assert all(json.loads(p.read_text())["pretrain"]["released"]["path"] == str(released.resolve()) for p in records)


def test_a_file_replaced_after_the_plan_is_refused_not_recorded_under_the_old_sha256(rel_registry, tmp_path: Path) -> None:
    import os

    root, released = _files(tmp_path)
    cache = ArtifactCache(tmp_path / "cache")
    plan = make_plan(rel_registry, ["rel_method"], ["rel_task"], [], [0], _document(root, released), cache)
    np.save(released, np.eye(4, dtype=np.float32) * 3)
    os.utime(released, ns=(1, 1))  # another mtime whatever the clock's resolution
    message = user_error(record_cell, ResultStore(tmp_path / "results"), Runner(cache, plan.data), plan.cells[0])
    assert "changed since the grid was planned" in message and not list((tmp_path / "results").rglob("seed*.json"))

import json
import os

import pytest

from avtbench import atomic
from avtbench.cells import Cell
from avtbench.store import ResultStore


def _cell(seed=0, lr=1e-3, version="1"):
    return Cell(method="m", task="t", direction="v2a", seed=seed, method_version=version,
                method_config={"lr": lr}, task_config={}, data={"profile": "tiny"})


def test_config_hash_shared_by_seeds_but_not_by_configs():
    assert _cell(0).config_hash == _cell(1).config_hash
    assert _cell(0).cell_hash != _cell(1).cell_hash
    assert _cell(lr=1e-3).config_hash != _cell(lr=2e-3).config_hash
    assert _cell(version="1").config_hash != _cell(version="2").config_hash
    assert _cell().config_hash == _cell().config_hash


def test_write_is_atomic_and_path_layout(tmp_path):
    store = ResultStore(tmp_path)
    cell = _cell(seed=3)
    path = store.write(cell, {"metrics": {"f1": 1.0}})
    assert path == tmp_path / "m" / "t" / "v2a" / f"seed3-{cell.config_hash}.json"
    assert store.exists(cell) and json.loads(path.read_text())["metrics"]["f1"] == 1.0
    assert [p.name for p in path.parent.iterdir()] == [path.name], "no temp file left behind"


def test_failed_write_keeps_the_old_record(tmp_path, monkeypatch):
    store = ResultStore(tmp_path)
    cell = _cell()
    store.write(cell, {"metrics": {"f1": 1.0}})

    def crash(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(atomic.os, "replace", crash)
    with pytest.raises(KeyboardInterrupt):
        store.write(cell, {"metrics": {"f1": 2.0}})
    assert store.read(cell)["metrics"]["f1"] == 1.0
    assert len(os.listdir(store.path(cell).parent)) == 1, "the temp file is cleaned up"


def test_records_skip_unreadable_files_without_deleting_them(tmp_path, capsys):
    store = ResultStore(tmp_path)
    store.write(_cell(0), {"metrics": {"f1": 1.0}})
    bad = tmp_path / "m" / "t" / "v2a" / "seed9-broken.json"
    bad.write_text("{half a record")
    records = list(store.records())
    assert len(records) == 1
    assert "skipping unreadable result" in capsys.readouterr().err
    assert bad.exists()

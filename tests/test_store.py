import json
import os

import pytest

from avtbench import atomic
from avtbench.cells import Cell
from avtbench.record import CellRecord
from avtbench.store import ResultStore


def _cell(seed=0, lr=1e-3, version="1"):
    return Cell(method="m", task="t", direction="v2a", seed=seed, method_version=version,
                method_config={"lr": lr}, task_config={}, data={"profile": "tiny"})


def _record(cell, f1=1.0):
    return CellRecord(method=cell.method, task=cell.task, direction=cell.direction, seed=cell.seed,
                      metrics={"f1": f1}, main_metric="f1", cell_hash=cell.cell_hash)


def test_config_hash_shared_by_seeds_but_not_by_configs():
    assert _cell(0).config_hash == _cell(1).config_hash
    assert _cell(0).cell_hash != _cell(1).cell_hash
    assert _cell(lr=1e-3).config_hash != _cell(lr=2e-3).config_hash
    assert _cell(version="1").config_hash != _cell(version="2").config_hash
    assert _cell().config_hash == _cell().config_hash


def test_write_is_atomic_and_path_layout(tmp_path):
    store = ResultStore(tmp_path)
    cell = _cell(seed=3)
    path = store.write(cell, _record(cell))
    assert path == tmp_path / "m" / "t" / "v2a" / f"seed3-{cell.config_hash}.json"
    assert store.exists(cell) and json.loads(path.read_text())["metrics"]["f1"] == 1.0
    assert [p.name for p in path.parent.iterdir()] == [path.name], "no temp file left behind"


def test_failed_write_keeps_the_old_record(tmp_path, monkeypatch):
    store = ResultStore(tmp_path)
    cell = _cell()
    store.write(cell, _record(cell))

    def crash(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(atomic.os, "replace", crash)
    with pytest.raises(KeyboardInterrupt):
        store.write(cell, _record(cell, 2.0))
    assert store.read(cell).metrics["f1"] == 1.0
    assert len(os.listdir(store.path(cell).parent)) == 1, "the temp file is cleaned up"


def test_records_skip_unreadable_files_without_deleting_them(tmp_path, capsys):
    store = ResultStore(tmp_path)
    store.write(_cell(0), _record(_cell(0)))
    bad = tmp_path / "m" / "t" / "v2a" / "seed9-broken.json"
    bad.write_text("{half a record")
    records = list(store.records())
    assert len(records) == 1
    assert "skipping incomplete result" in capsys.readouterr().err
    assert bad.exists()


@pytest.mark.parametrize("content", ["", "{half a record", "[]", '{"metrics": {"f1": 1.0}}'])
def test_an_empty_corrupt_or_partial_record_is_not_a_finished_cell(tmp_path, content):
    store = ResultStore(tmp_path)
    cell = _cell()
    store.path(cell).parent.mkdir(parents=True)
    store.path(cell).write_text(content)
    assert store.state(cell) == "corrupt" and not store.exists(cell)
    moved = store.set_aside(cell)
    assert moved.read_text() == content and moved.name.startswith(store.path(cell).name + ".corrupt-")
    assert store.state(cell) == "missing"
    other = _cell(seed=5)
    store.write(cell, _record(other))  # a record of another cell at this path does not count either
    assert store.state(cell) == "corrupt"


def test_files_are_written_with_the_umask_not_0600(tmp_path):
    old = os.umask(0o022)
    try:
        path = ResultStore(tmp_path).write(_cell(), _record(_cell()))
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o644

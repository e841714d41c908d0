"""`avtbench merge`: result stores from several machines into one. The stores are written with typed records
(`avtbench.record`) through `ResultStore`, as a run writes them; the slow test merges two real tiny grids."""
from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from avtbench.cells import Cell
from avtbench.cli import main
from avtbench.record import CellFailure, CellRecord
from avtbench.store import ResultStore
from avtbench.tables import build_table, render


def _cell(seed: int, method: str = "m1", task: str = "ave", direction: str = "v2a") -> Cell:
    return Cell(method=method, task=task, direction=direction, seed=seed, method_config={"lr": 0.1},
                data={"profile": "tiny"})


def _record(cell: Cell, value: float, created: str = "2026-01-02T03:04:05+00:00", host: str = "a") -> CellRecord:
    return CellRecord(method=cell.method, task=cell.task, direction=cell.direction, seed=cell.seed,
                      metrics={"accuracy": value, "loss": 1.0 / (1.0 + value)}, main_metric="accuracy",
                      cell_hash=cell.cell_hash, config_hash=cell.config_hash, method_hash=cell.method_hash,
                      column_hash=cell.column_hash, device="cpu", created=created, versions={"host": host})


def _put(root: Path, cell: Cell, record: CellRecord, artifacts: dict[str, bytes] | None = None) -> Path:
    """The record written as a run writes it, under its lock (so the store has a lock file), with its artifacts."""
    store = ResultStore(root)
    with store.lock(cell):
        if artifacts:
            folder = store.artifacts_path(cell)
            for name, data in artifacts.items():
                (folder / name).parent.mkdir(parents=True, exist_ok=True)
                (folder / name).write_bytes(data)
            record = record.with_artifacts(sorted(artifacts))
        return store.write(cell, record)


def _fail(root: Path, cell: Cell, error: str = "RuntimeError: boom") -> Path:
    return ResultStore(root).write_failure(cell, CellFailure(error, host="b"))


def _snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()} \
        if root.exists() else {}


def merge(*args: str):
    return CliRunner().invoke(main, ["merge", *args])


def _records(root: Path) -> dict[tuple, CellRecord]:
    return {(r.method, r.task, r.direction, r.seed): r for r in ResultStore(root).records()}


@pytest.fixture
def two_stores(tmp_path: Path) -> tuple[Path, Path]:
    """A: m1 seeds 0, 1 (seed 1 with artifacts), m2 seed 0; B: m1 seeds 1 (the same record) and 2, m2 seed 1
    failed, m1 on avvp; both with lock files, B with a grid manifest."""
    a, b = tmp_path / "A", tmp_path / "B"
    same = _record(_cell(1), 42.0)
    _put(a, _cell(0), _record(_cell(0), 40.0))
    _put(a, _cell(1), same, artifacts={"masks.npz": b"\x00\x01masks", "sub/panel.png": b"png"})
    _put(a, _cell(0, "m2"), _record(_cell(0, "m2"), 30.0))
    _put(b, _cell(1), same, artifacts={"masks.npz": b"\x00\x01masks", "sub/panel.png": b"png"})
    _put(b, _cell(2), _record(_cell(2), 47.0, host="b"))
    _put(b, _cell(0, task="avvp"), _record(_cell(0, task="avvp"), 12.5, host="b"))
    _fail(b, _cell(1, "m2"))
    (b / ".avtbench" / "grids").mkdir(parents=True)
    (b / ".avtbench" / "grids" / "g1.json").write_text("{}\n")
    return a, b


def test_two_stores_sharing_cells_merge_into_one(two_stores: tuple[Path, Path], tmp_path: Path) -> None:
    a, b = two_stores
    before = {a: _snapshot(a), b: _snapshot(b)}
    dest = tmp_path / "merged"
    out = merge(str(a), str(b), "--into", str(dest))
    assert out.exit_code == 0, out.output
    assert out.stdout.strip() == (
        f"merged 2 store(s) into {dest}: 5 record(s) copied, 1 kept once (equal metrics in several stores), "
        "0 conflict(s) settled by --prefer newest, 1 failure(s) copied, 1 artifact folder(s) copied; "
        "skipped: 6 lock file(s), 1 run file(s) (grid manifests, Slurm jobs)")
    assert {p: _snapshot(p) for p in (a, b)} == before, "the sources are only read"
    merged = _records(dest)
    assert sorted(merged) == [("m1", "ave", "v2a", 0), ("m1", "ave", "v2a", 1), ("m1", "ave", "v2a", 2),
                              ("m1", "avvp", "v2a", 0), ("m2", "ave", "v2a", 0)]
    for key, record in merged.items():
        source = a if key in (("m1", "ave", "v2a", 0), ("m1", "ave", "v2a", 1), ("m2", "ave", "v2a", 0)) else b
        assert Path(record.path).read_bytes() == (source / Path(record.path).relative_to(dest)).read_bytes()
    store = ResultStore(dest)
    folder = store.artifacts_path(_cell(1))
    assert (folder / "masks.npz").read_bytes() == b"\x00\x01masks" and (folder / "sub" / "panel.png").read_bytes() == b"png"
    assert merged[("m1", "ave", "v2a", 1)].artifacts == ("masks.npz", "sub/panel.png")
    assert store.failure(_cell(1, "m2")).error == "RuntimeError: boom"
    assert not (dest / ".locks").exists() and not (dest / ".avtbench").exists(), "the sources' own files stay there"

    expected = [_record(_cell(s), v) for s, v in ((0, 40.0), (1, 42.0), (2, 47.0))] + \
        [_record(_cell(0, "m2"), 30.0), _record(_cell(0, task="avvp"), 12.5)]
    table = CliRunner().invoke(main, ["table", "--results", str(dest)])
    assert table.exit_code == 0 and table.stdout.strip() == render(build_table(expected)).strip(), table.output
    assert "43.0 ± 3.6 (3)" in table.stdout and "1 cell(s) failed" in table.stderr

    merged_once = _snapshot(dest)
    again = merge(str(a), str(b), "--into", str(dest))
    assert again.exit_code == 0, again.output
    assert "0 record(s) copied, 5 kept once" in again.stdout and "0 failure(s) copied" in again.stdout
    assert again.stdout.rstrip().endswith("1 repeated failure(s)")
    assert _snapshot(dest) == merged_once, "merging into a store holding the same cells changes nothing"


def test_a_conflicting_cell_is_one_line_naming_both_files_and_writes_nothing(two_stores, tmp_path: Path) -> None:
    a, b = two_stores
    other = _put(b, _cell(0), _record(_cell(0), 41.0, host="b"))
    dest = tmp_path / "merged"
    out = merge(str(a), str(b), "--into", str(dest))
    assert out.exit_code == 2 and out.stdout == ""
    [line] = out.stderr.splitlines()
    mine = a / other.relative_to(b)
    assert line == (f"error: conflicting results for m1 / ave / v2a / {mine.stem}: {mine} and {other} differ "
                    "(accuracy 40.0 vs 41.0); keep one of each (move the other out of its store) or pass --prefer newest")
    assert not dest.exists(), "nothing was written"
    dest.mkdir()
    kept = _put(dest, _cell(5), _record(_cell(5), 1.0))
    before = _snapshot(dest)
    out = merge(str(a), str(b), "--into", str(dest))
    assert out.exit_code == 2 and _snapshot(dest) == before, "an existing store is left as it was"
    assert kept.is_file()


def test_a_conflict_with_the_destination_counts_the_same(tmp_path: Path) -> None:
    a, dest = tmp_path / "A", tmp_path / "D"
    _put(a, _cell(0), _record(_cell(0), 40.0))
    mine = _put(dest, _cell(0), _record(_cell(0), 40.0, host="d"))  # equal metrics, another host: the same result
    out = merge(str(a), "--into", str(dest))
    assert out.exit_code == 0 and "0 record(s) copied, 1 kept once" in out.stdout
    assert json.loads(mine.read_text())["versions"] == {"host": "d"}, "the destination's copy stays"
    _put(dest, _cell(0), replace(_record(_cell(0), 40.0), metrics={"accuracy": 40.0, "loss": 0.5}))
    out = merge(str(a), "--into", str(dest))
    assert out.exit_code == 2 and "(loss " in out.stderr and str(mine) in out.stderr


def test_prefer_newest_keeps_the_record_that_finished_last_by_its_own_time(tmp_path: Path) -> None:
    a, b = tmp_path / "A", tmp_path / "B"
    newer = _put(a, _cell(0), _record(_cell(0), 40.0, created="2026-03-01T10:00:00+00:00"))
    older = _put(b, _cell(0), _record(_cell(0), 41.0, created="2026-03-01T09:59:59+00:00"))
    os.utime(newer, (1_000_000, 1_000_000))  # the newer record's file is the older file: mtime is not looked at
    for order, dest in (((a, b), tmp_path / "D"), ((b, a), tmp_path / "D1")):
        out = merge(*map(str, order), "--into", str(dest), "--prefer", "newest")
        assert out.exit_code == 0, out.output
        assert _records(dest)[("m1", "ave", "v2a", 0)].main_value == 40.0
        assert out.stderr == (f"--prefer newest: m1 / ave / v2a / {newer.stem}: kept {newer} (finished "
                              f"2026-03-01T10:00:00+00:00) over {older} (2026-03-01T09:59:59+00:00)\n")
        assert "1 record(s) copied, 0 kept once (equal metrics in several stores), 1 conflict(s) settled" in out.stdout
    again = merge(str(b), "--into", str(dest), "--prefer", "newest")
    assert again.exit_code == 0 and "0 record(s) copied" in again.stdout, "the destination's newer record stays"
    assert _records(dest)[("m1", "ave", "v2a", 0)].main_value == 40.0

    # the destination's older record and its artifacts give way to a newer one that kept none
    dest2 = tmp_path / "D2"
    _put(dest2, _cell(0), _record(_cell(0), 41.0, created="2026-03-01T09:00:00+00:00"), artifacts={"x.npz": b"x"})
    out = merge(str(a), "--into", str(dest2), "--prefer", "newest")
    assert out.exit_code == 0, out.output
    assert _records(dest2)[("m1", "ave", "v2a", 0)].main_value == 40.0
    assert not ResultStore(dest2).artifacts_path(_cell(0)).exists(), "the replaced record's artifacts went with it"
    assert [p.name for p in ResultStore(dest2).path(_cell(0)).parent.iterdir()] == [newer.name], "no temporary left"

    tie = tmp_path / "T"
    _put(tie, _cell(0), _record(_cell(0), 39.0, created="2026-03-01T10:00:00+00:00"))
    out = merge(str(a), str(tie), "--into", str(tmp_path / "D3"), "--prefer", "newest")
    assert out.exit_code == 2 and "finished at the same time" in out.stderr and not (tmp_path / "D3").exists()


def test_a_failure_never_overrides_a_record_and_a_record_replaces_a_failure(tmp_path: Path) -> None:
    a, b, dest = tmp_path / "A", tmp_path / "B", tmp_path / "D"
    _put(a, _cell(0), _record(_cell(0), 40.0))      # record in A, failure in B
    _fail(b, _cell(0))
    _fail(dest, _cell(1))                            # failure in DEST, record in B
    _put(b, _cell(1), _record(_cell(1), 41.0))
    _put(dest, _cell(2), _record(_cell(2), 42.0))    # record in DEST, failure in A
    _fail(a, _cell(2))
    _fail(a, _cell(3), "first")                      # failures only: the first source's stays
    _fail(b, _cell(3), "second")
    out = merge(str(a), str(b), "--into", str(dest))
    assert out.exit_code == 0, out.output
    assert "2 failure(s) of a cell with a record, 1 repeated failure(s)" in out.stdout
    store = ResultStore(dest)
    assert sorted(_records(dest)) == [("m1", "ave", "v2a", s) for s in (0, 1, 2)]
    assert [store.failure(_cell(s)) for s in (0, 1, 2)] == [None, None, None]
    assert store.failure(_cell(3)).error == "first"


def test_dry_run_reports_and_writes_nothing(two_stores, tmp_path: Path) -> None:
    a, b = two_stores
    out = merge(str(a), str(b), "--into", str(tmp_path / "D"), "--dry-run")
    assert out.exit_code == 0 and out.stdout.startswith("--dry-run: merging 2 store(s) into")
    assert "5 record(s) copied" in out.stdout and out.stdout.rstrip().endswith("nothing written")
    assert not (tmp_path / "D").exists()


def _corrupt(a: Path, b: Path) -> str:
    path = ResultStore(a).path(_cell(0))
    path.write_text(path.read_text()[:40])
    return f"{path} is not a complete record (it does not parse as JSON)"


def _misplaced(a: Path, b: Path) -> str:
    path = ResultStore(a).path(_cell(0))
    wrong = path.with_name(path.name.replace("seed0", "seed7"))
    path.rename(wrong)
    return f"{wrong} holds the record of m1 / ave / v2a / seed 0"


def _corrupt_failure(a: Path, b: Path) -> str:
    path = ResultStore(b).failure_path(_cell(1, "m2"))
    path.write_text(path.read_text()[:10])
    return f"{path} is not a failure record"


@pytest.mark.parametrize("case", [
    lambda a, b, t: ([str(t / "nowhere"), str(b)], t / "D", f"source {t / 'nowhere'} does not exist"),
    lambda a, b, t: ([str(ResultStore(a).path(_cell(0))), str(b)], t / "D", "is a file, not a result store's folder"),
    lambda a, b, t: ([str(a), str(a / ".." / "A")], t / "D", f"is named twice (also as {a})"),
    lambda a, b, t: ([str(a), str(b)], a, f"--into {a} is the source {a}"),
    lambda a, b, t: ([str(a), str(b)], b / "inner", f"--into {b / 'inner'} is inside the source {b}"),
    lambda a, b, t: ([str(a), str(b)], t, f"the source {a} is inside --into {t}"),
    lambda a, b, t: ([str(a), str(a / "m1")], t / "D", f"source {a / 'm1'} is not a result store"),
    lambda a, b, t: ([str(a)], ResultStore(b).path(_cell(2)) / "x", "is a file, not a folder"),
    lambda a, b, t: ([str(a), str(b)], t / "D", _corrupt(a, b)),
    lambda a, b, t: ([str(a), str(b)], t / "D", _misplaced(a, b)),
    lambda a, b, t: ([str(a), str(b)], t / "D", _corrupt_failure(a, b)),
], ids=["missing", "file", "twice", "into-a-source", "into-inside-a-source", "source-inside-into", "not-a-store",
        "into-under-a-file", "corrupt-record", "misplaced-record", "corrupt-failure"])
def test_bad_input_is_one_line_exit_2_before_anything_is_written(two_stores, tmp_path: Path, case) -> None:
    a, b = two_stores
    sources, dest, message = case(a, b, tmp_path)
    before = {p: _snapshot(p) for p in (a, b, dest)}
    out = merge(*sources, "--into", str(dest))
    assert out.exit_code == 2, out.output
    [line] = out.stderr.splitlines()
    assert line.startswith("error: ") and message in line, line
    assert {p: _snapshot(p) for p in (a, b, dest)} == before


def test_into_a_folder_that_is_not_a_store_is_refused(two_stores, tmp_path: Path) -> None:
    a, _ = two_stores
    dest = tmp_path / "notes"
    dest.mkdir()
    (dest / "todo.txt").write_text("x")
    out = merge(str(a), "--into", str(dest))
    assert out.exit_code == 2 and "is a folder with other files, not a result store" in out.stderr
    assert sorted(p.name for p in dest.iterdir()) == ["todo.txt"]


@pytest.mark.slow
def test_two_real_tiny_grids_merge(tmp_path: Path, cache_env: Path) -> None:
    """Two stores written by `avtbench run` (one with a task's artifacts) share a cell: merged, the table holds
    every seed once."""
    tiny = ["--set", "data.profile=tiny", "--set", "ave.epochs=2", "--set", "avs_s4.epochs=1", "--set", "avs_s4.width=4",
            "--set", "avs_s4.keep_masks=3", "--device", "cpu", "-q"]
    a, b, dest = tmp_path / "A", tmp_path / "B", tmp_path / "D"
    for store, seeds, task in ((a, "0,1", "ave"), (b, "1,2", "ave"), (a, "0", "avs_s4")):
        run = CliRunner().invoke(main, ["run", "-m", "unaligned", "-t", task, "-d", "t2a" if task == "avs_s4" else "v2a",
                                        "-s", seeds, "--results", str(store), *tiny])
        assert run.exit_code == 0, run.output
    before = {p: _snapshot(p) for p in (a, b)}
    out = merge(str(a), str(b), "--into", str(dest))
    assert out.exit_code == 0, out.output
    assert "4 record(s) copied, 1 kept once" in out.stdout and "1 artifact folder(s) copied" in out.stdout
    assert {p: _snapshot(p) for p in (a, b)} == before
    records = list(ResultStore(a).records()) + [r for r in ResultStore(b).records() if r.seed == 2]
    table = CliRunner().invoke(main, ["table", "--results", str(dest), "--format", "json"])
    assert json.loads(table.stdout) == json.loads(render(build_table(records), "json"))
    [masks] = dest.rglob("*.artifacts")
    assert sorted(p.name for p in masks.iterdir()) == ["avs_s4_masks.npz", "avs_s4_masks.png"]

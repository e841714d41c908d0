"""The typed cell record: every record version on disk still reads, and a record round-trips through JSON."""
import dataclasses
import json
from pathlib import Path

import pytest

from avtbench.record import RECORD_VERSION, CellFailure, CellRecord, IncompleteRecord
from avtbench.store import ResultStore
from avtbench.tables import build_table

V1 = Path(__file__).parent / "data" / "records" / "v1-cca-retrieval.json"
"""A record as `avtbench run` wrote it before records were typed (version 1: an untyped dict)."""


def test_a_version_1_record_reads_field_by_field() -> None:
    document = json.loads(V1.read_text())
    record = CellRecord.from_json(document)
    assert record.record_version == 1
    assert (record.method, record.task, record.direction, record.seed) == ("cca", "retrieval", "a2v", 0)
    assert record.main_value == document["main_value"] and record.metrics == document["metrics"]
    assert record.pretrain.checkpoint == document["pretrain"]["checkpoint"]
    assert record.timings.total_s == document["timings"]["total_s"]
    assert record.environment == document["environment"] and record.config == document["config"]


def test_writing_keeps_the_layout_of_version_1_and_adds_its_version() -> None:
    document = json.loads(V1.read_text())
    written = CellRecord.from_json(document).to_json()
    assert written.pop("record_version") == 1, "a record read keeps the version it was written in"
    assert json.loads(json.dumps(written)) == document
    fresh = CellRecord("m", "t", "a2v", 0, {"f1": 1.0}, "f1", "h")
    assert fresh.to_json()["record_version"] == RECORD_VERSION == 2


def test_a_store_holding_an_old_record_and_a_new_one_tables_both(tmp_path: Path) -> None:
    old = json.loads(V1.read_text())
    folder = tmp_path / "cca" / "retrieval" / "a2v"
    folder.mkdir(parents=True)
    (folder / "seed0-old.json").write_text(json.dumps(old))
    new = dataclasses.replace(CellRecord.from_json(old), seed=1, cell_hash="another",
                              metrics={**old["metrics"], "r1": 41.0}, record_version=RECORD_VERSION)
    (folder / "seed1-new.json").write_text(json.dumps(new.to_json()))
    records = list(ResultStore(tmp_path).records())
    assert sorted(r.record_version for r in records) == [1, RECORD_VERSION]
    table = build_table(records)
    [aggregate] = table.cells.values()
    assert aggregate.n == 2 and aggregate.values == [old["metrics"]["r1"], 41.0]


@pytest.mark.parametrize("change, problem", [
    (lambda d: d.pop("cell_hash"), "no 'cell_hash' field"),
    (lambda d: d.update(metrics=[1.0]), "metrics is not a JSON object"),
    (lambda d: d.update(main_metric="nope"), "main metric 'nope' is not among its metrics"),
    (lambda d: d["metrics"].update(r1="high"), "metric 'r1' is not a number"),
    (lambda d: d["metrics"].update(r1=float("nan")), "metric 'r1' is not finite"),
    (lambda d: d.update(seed="zero"), "wrong type"),
])
def test_a_document_that_is_not_a_complete_record_is_named(change, problem) -> None:
    document = json.loads(V1.read_text())
    change(document)
    with pytest.raises(IncompleteRecord, match=problem):
        CellRecord.from_json(document)


def test_dict_style_access_still_answers_and_says_what_to_use() -> None:
    record = CellRecord.from_json(json.loads(V1.read_text()))
    with pytest.warns(DeprecationWarning, match=r"use record.metrics"):
        assert record["metrics"] == record.metrics


def test_a_failure_round_trips_and_an_unknown_kind_counts_as_a_crash() -> None:
    failure = CellFailure("UserError: bad row", kind="user error", host="h", seconds=1.5).in_stage("pretraining")
    assert CellFailure.from_json(json.loads(json.dumps(failure.to_json()))) == failure
    assert CellFailure.from_json({"error": "x", "kind": "gremlins"}).kind == "crash"
    assert "stage" not in CellFailure("x").to_json()

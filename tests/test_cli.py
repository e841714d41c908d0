"""End to end through the CLI on the tiny synthetic world."""
import json
import subprocess

import h5py
import pytest
from click.testing import CliRunner

from avtbench.cli import main

from .conftest import avtbench_cmd, cli_env, tiny_world_root

TINY = ["--set", "data.profile=tiny", "--set", "ave.epochs=2", "--set", "avvp.epochs=2", "--device", "cpu"]


def invoke(*args):
    return CliRunner().invoke(main, list(args))


@pytest.fixture
def results(tmp_path, cache_env):
    return tmp_path / "results"


def record_files(results):
    """Finished cells' records (not the failure records of cells that met bad data)."""
    return sorted(p for p in results.rglob("seed*.json") if not p.name.endswith(".failure.json"))


def copy_tiny_ave(session_cache, target):
    """The feature-level files of the tiny world's AVE (raw/ is not needed), to break one of them."""
    tiny = tiny_world_root(session_cache)
    target.mkdir()
    for f in (f for f in (tiny / "ave").iterdir() if f.is_file()):
        (target / f.name).write_bytes(f.read_bytes())
    return target


def test_run_records_a_cell_then_skips_it_then_overwrites(results):
    out = invoke("run", "-m", "unaligned", "-t", "ave", "-d", "v2a", "--results", str(results), *TINY)
    assert out.exit_code == 0, out.output
    [path] = record_files(results)
    assert path.parent == results / "unaligned" / "ave" / "v2a" and path.name.startswith("seed0-")
    record = json.loads(path.read_text())
    assert record["main_metric"] == "accuracy" and 0 <= record["main_value"] <= 100
    assert {"accuracy", "accuracy_best_epoch", "source_accuracy"} <= set(record["metrics"])
    assert record["config"]["task"]["epochs"] == 2 and record["config"]["data"]["profile"] == "tiny"
    assert {"method", "task", "avtbench", "torch"} <= set(record["versions"]) and "git_sha" in record
    assert {"pretrain_s", "encode_s", "evaluate_s", "total_s"} <= set(record["timings"])
    assert record["device"] == "cpu" and record["seed"] == 0 and len(record["cell_hash"]) == 16
    before = path.stat().st_mtime_ns

    again = invoke("run", "-m", "unaligned", "-t", "ave", "-d", "v2a", "--results", str(results), *TINY)
    assert again.exit_code == 0 and "cached" in again.output
    assert path.stat().st_mtime_ns == before

    redo = invoke("run", "-m", "unaligned", "-t", "ave", "-d", "v2a", "--results", str(results), "--overwrite", *TINY)
    assert redo.exit_code == 0 and "done" in redo.output
    assert json.loads(path.read_text())["pretrain"]["cached"] is True, "the checkpoint is reused"

    table = invoke("table", "--results", str(results))
    assert table.exit_code == 0 and "unaligned" in table.output and "ave/v2a accuracy" in table.output


def test_grid_expands_and_seeds_aggregate(results):
    out = invoke("run", "-m", "unaligned", "-t", "avvp", "--seed", "0,1", "--results", str(results), *TINY)
    assert out.exit_code == 0, out.output
    assert len(record_files(results)) == 4, "2 directions x 2 seeds"
    record = json.loads(record_files(results)[0].read_text())
    assert {"f1", "precision", "recall", "f1_cmg_batched", "segment_audio", "event_event_av"} <= set(record["metrics"])
    table = invoke("table", "--results", str(results), "--format", "csv")
    assert table.exit_code == 0 and "unaligned,avvp/a2v,f1," in table.output and table.output.rstrip().endswith(",2")


@pytest.mark.parametrize("args, message", [
    (["-m", "unalignd", "-t", "ave"], "did you mean 'unaligned'"),
    (["-m", "unaligned", "-t", "avvvp"], "did you mean 'avvp'"),
    (["-m", "unaligned", "-t", "ave", "-d", "t2a"], "does not support direction t2a"),
    (["-m", "unaligned", "-t", "ave", "-d", "x2y"], "bad direction 'x2y'"),
    (["-m", "unaligned", "-t", "ave", "--set", "ave.epoch=3"], "ave has no setting 'epoch'"),
    (["-m", "unaligned", "-t", "ave", "--set", "nosuch.x=3"], "names no method, task or data"),
    (["-m", "unaligned", "-t", "ave", "--set", "data.root=/no/such/dir"], "data root not found"),
    (["-m", "unaligned", "-t", "ave", "--seed", "one"], "bad seed 'one'"),
])
def test_bad_input_is_one_line_exit_2_and_touches_nothing(results, args, message):
    invoke("run", "-m", "unaligned", "-t", "ave", "-d", "a2v", "--results", str(results), *TINY)
    [kept] = record_files(results)
    before = kept.read_bytes()
    out = invoke("run", *args, "--results", str(results), *TINY)
    assert out.exit_code == 2, out.output
    assert message in out.output
    errors = [line for line in out.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "Traceback" not in out.output
    assert record_files(results) == [kept] and kept.read_bytes() == before


def test_malformed_yaml(results, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("ave: {epochs: [1\n")
    out = invoke("run", "-m", "unaligned", "-t", "ave", "--config", str(bad), "--results", str(results))
    assert out.exit_code == 2 and "malformed YAML" in out.output


def test_corrupt_h5_stops_the_grid_but_keeps_finished_cells_and_resumes(results, session_cache, tmp_path):
    broken = copy_tiny_ave(session_cache, tmp_path / "ave")
    (broken / "audio_feature.h5").write_bytes((broken / "audio_feature.h5").read_bytes()[:500])
    grid = ["run", "-m", "unaligned", "-t", "avvp", "-t", "ave", "-d", "v2a", "--results", str(results), *TINY]
    out = invoke(*grid, "--set", f"data.ave_root={broken}")
    assert out.exit_code == 2 and "audio_feature.h5" in out.output
    [finished] = record_files(results)
    assert "avvp" in str(finished)
    resumed = invoke(*grid)
    assert resumed.exit_code == 0, resumed.output
    assert "cached" in resumed.output and len(record_files(results)) == 2


def test_nan_features_are_refused(results, session_cache, tmp_path):
    root = copy_tiny_ave(session_cache, tmp_path / "ave")
    with h5py.File(root / "visual_feature.h5", "r+") as fh:
        data = fh["avadataset"][...]
        data[0, 0] = float("nan")
        fh["avadataset"][...] = data
    out = invoke("run", "-m", "unaligned", "-t", "ave", "--results", str(results), *TINY, "--set", f"data.ave_root={root}")
    assert out.exit_code == 2 and "visual_feature.h5" in out.output and "Traceback" not in out.output


def test_cli_subprocess_exit_code_and_single_line(session_cache, tmp_path):
    out = subprocess.run(avtbench_cmd("run", "-m", "nope", "-t", "ave", "--results", str(tmp_path)),
                         capture_output=True, text=True, env=cli_env(session_cache))
    assert out.returncode == 2
    assert out.stderr.strip().count("\n") == 0 and out.stderr.startswith("error: unknown method 'nope'")

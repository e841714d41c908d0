"""The CLI's smaller manners: exit codes, hints, help, redirected output, what a run says and records."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

from click.testing import CliRunner

from avtbench.cli import main

from .conftest import avtbench_cmd, cli_env

TINY = ["--set", "data.profile=tiny", "--set", "ave.epochs=2", "--device", "cpu"]


def invoke(*args: str):
    return CliRunner().invoke(main, list(args))


def test_checking_an_unknown_plugin_is_bad_input() -> None:
    out = invoke("check", "unalignd")
    assert out.exit_code == 2 and "error: no installed method or task is named 'unalignd'; did you mean 'unaligned'?" in out.output
    assert "PASS" not in out.output and "FAIL" not in out.output


def test_a_mistyped_setting_gets_did_you_mean_not_every_setting(tmp_path: Path) -> None:
    out = invoke("run", "-m", "unified_vq", "-t", "ave", "--set", "unified_vq.epoch=2", "--results", str(tmp_path / "r"))
    assert out.exit_code == 2
    [line] = [l for l in out.output.splitlines() if l.startswith("error:")]
    assert line == "error: unified_vq has no setting 'epoch'; did you mean unified_vq.epochs?"
    far = invoke("run", "-m", "unified_vq", "-t", "ave", "--set", "unified_vq.zzz=2", "--results", str(tmp_path / "r"))
    assert far.exit_code == 2 and "in all)" in far.output and len(far.output.splitlines()[0]) < 400


def test_help_lists_plugin_commands_with_whole_sentences() -> None:
    out = invoke("--help")
    assert out.exit_code == 0
    text = " ".join(out.output.split())
    assert "Plugin commands: triplets Generate LG-CAV-MAE's audio-visual-text triplets" in text
    assert "Draw a plugin's named plot (e.g. `avtbench plot codebook -m unified_vq --out usage.svg`)." in text
    assert "..." not in out.output.split("Commands:")[1]


def test_redirected_list_cuts_nothing(tmp_path: Path) -> None:
    out = subprocess.run(avtbench_cmd("list"), capture_output=True, text=True, env=cli_env(tmp_path), timeout=120)
    assert out.returncode == 0, out.stderr
    assert "…" not in out.stdout and "AVSBenchCategories2Prompts.csv" in out.stdout.replace("│", "").replace(" ", "")


def test_a_cold_run_says_where_its_record_went_and_what_pretraining_cost(tmp_path: Path) -> None:
    results, cache = tmp_path / "results", tmp_path / "cache"
    out = invoke("run", "-m", "unaligned", "-t", "ave", "-d", "v2a", "--results", str(results), "--cache", str(cache), *TINY)
    assert out.exit_code == 0, out.output
    [path] = sorted(results.rglob("seed*.json"))
    assert f"-> {path}" in out.output
    record = json.loads(path.read_text())
    assert record["pretrain"]["cached"] is False and record["timings"]["pretrain_s"] > 0
    assert record["pretrain"]["environment"]["cpu"] == record["environment"]["cpu"]
    env = record["environment"]
    assert {"torch", "numpy", "cpu", "torch_threads", "torch_blas", "pools", "device", "device_name"} <= set(env)
    assert env["device"] == "cpu" and any(p["kind"] == "blas" and p["threads"] >= 1 for p in env["pools"])
    grids = results / ".avtbench" / "grids"
    assert len(list(grids.glob("*.json"))) == 1
    again = invoke("run", "-m", "unaligned", "-t", "ave", "-d", "v2a", "--results", str(results), "--cache", str(cache), *TINY)
    assert again.exit_code == 0 and "cached" in again.output
    assert len(list(grids.glob("*.json"))) == 1, "a rerun that did nothing is no new grid"
    redo = invoke("run", "-m", "unaligned", "-t", "ave", "-d", "v2a", "--results", str(results), "--cache", str(cache),
                  "--overwrite", *TINY)
    assert redo.exit_code == 0 and len(list(grids.glob("*.json"))) == 2
    record = json.loads(path.read_text())
    assert record["pretrain"]["cached"] is True and record["timings"]["pretrain_s"] == 0.0

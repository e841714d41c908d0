"""Bad input through the CLI: exit 2, one `error:` line naming the problem, and the results already
written left byte for byte as they were."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import h5py
import numpy as np
import pytest

from .conftest import avtbench_cmd, cli_env, tiny_world_root

TINY = ["--set", "data.profile=tiny", "--set", "ave.epochs=2", "--set", "avvp.epochs=2", "--device", "cpu"]


def error_line(stderr: str) -> str:
    """The one `error:` line, last on stderr (found while reading data, after a progress line or two)."""
    errors = [line for line in stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and stderr.splitlines()[-1] == errors[0], stderr
    return errors[0]


def run(cache: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(avtbench_cmd(*args), capture_output=True, text=True, env=env or cli_env(cache))


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file() and ".locks" not in p.parts}


def intact(before: dict[str, bytes], folder: Path) -> bool:
    """Every file of `before` is still there, byte for byte (a failed cell may add its failure record)."""
    after = snapshot(folder)
    return all(after.get(name) == data for name, data in before.items())


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory, session_cache: Path) -> Path:
    """A results folder holding one finished cell, which no bad command may touch."""
    tiny_world_root(session_cache)
    results = tmp_path_factory.mktemp("bad-input") / "results"
    out = run(session_cache, "run", "-m", "unaligned", "-t", "ave", "-d", "a2v", "--results", str(results), *TINY)
    assert out.returncode == 0, out.stderr
    return results


def broken_ave(session_cache: Path, target: Path) -> Path:
    """The tiny world's AVE features with the audio 100 wide where the corpus has 32."""
    source = tiny_world_root(session_cache) / "ave"
    target.mkdir()
    for f in (f for f in source.iterdir() if f.is_file()):
        (target / f.name).write_bytes(f.read_bytes())
    with h5py.File(target / "audio_feature.h5", "r") as fh:
        n, t = fh["avadataset"].shape[:2]
    with h5py.File(target / "audio_feature.h5", "w") as fh:
        fh.create_dataset("avadataset", data=np.zeros((n, t, 100), np.float32))
    return target


def broken_avvp(session_cache: Path, target: Path) -> Path:
    """A copy of the tiny AVVP folder (features linked) whose AVVP_train.csv lacks event_labels."""
    source = tiny_world_root(session_cache) / "avvp"
    target.mkdir()
    for f in source.iterdir():
        (target / f.name).symlink_to(f) if f.is_dir() else (target / f.name).write_bytes(f.read_bytes())
    lines = (target / "AVVP_train.csv").read_text().splitlines()
    (target / "AVVP_train.csv").write_text("\n".join(["filename"] + [l.split("\t")[0] for l in lines[1:]]) + "\n")
    return target


CASES = {
    "negative seed": (["--seed", "-1"], "seed"),
    "seed over 2^32 - 1": (["--seed", "99999999999"], "seed"),
    "negative learning rate": (["--set", "ave.lr=-1"], "ave.lr"),
    "zero epochs": (["--set", "ave.epochs=0"], "ave.epochs"),
    "zero batch size": (["--set", "ave.batch_size=0"], "ave.batch_size"),
    "zero method width": (["--set", "unaligned.dim=0"], "unaligned.dim"),
    "unknown setting": (["--set", "ave.epoch=3"], "no setting 'epoch'"),
    "world seed out of range": (["--set", "data.world_seed=-3"], "data.world_seed"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_settings_are_one_line_errors_and_results_stay(case: str, finished: Path, session_cache: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """In process (the exit code and the stderr lines are the CLI's own; `test_cli` runs one in a subprocess)."""
    from click.testing import CliRunner

    from avtbench.cli import main

    monkeypatch.setenv("AVTBENCH_CACHE", str(session_cache))
    extra, named = CASES[case]
    before = snapshot(finished)
    out = CliRunner().invoke(main, ["run", "-m", "unaligned", "-t", "ave", "-d", "a2v", "--results", str(finished),
                                    *TINY, *extra])
    assert out.exit_code == 2, out.output
    assert out.stderr.count("\n") == 1 and out.stderr.startswith("error: ") and named in out.stderr, out.stderr
    assert snapshot(finished) == before


def test_features_of_another_width_than_the_corpus_are_an_error(finished: Path, session_cache: Path, tmp_path: Path) -> None:
    root = broken_ave(session_cache, tmp_path / "ave")
    before = snapshot(finished)
    out = run(session_cache, "run", "-m", "unaligned", "-t", "ave", "-d", "a2v", "--results", str(finished), *TINY,
              "--set", f"data.ave_root={root}")
    assert out.returncode == 2, out.stderr
    line = error_line(out.stderr)
    assert "audio features [N, T, 100]" in line and "[N, T, 32]" in line and "pretrained" in line
    assert intact(before, finished)


def test_a_csv_missing_a_column_is_an_error_whatever_the_protocol_reads(finished: Path, session_cache: Path,
                                                                         tmp_path: Path) -> None:
    root = broken_avvp(session_cache, tmp_path / "avvp")
    out = run(session_cache, "run", "-m", "unaligned", "-t", "avvp", "-d", "a2v", "--results", str(finished), *TINY,
              "--set", f"data.avvp_root={root}")
    assert out.returncode == 2, out.stderr
    line = error_line(out.stderr)
    assert "AVVP_train.csv" in line and "event_labels" in line


def test_results_under_a_regular_file_fail_before_any_work(session_cache: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    out = run(session_cache, "run", "-m", "oracle", "-t", "ave", "--results", str(blocker / "results"), *TINY,
              "--cache", str(tmp_path / "fresh-cache"))
    assert out.returncode == 2 and out.stderr.count("\n") == 1 and "is a file, not a folder" in out.stderr
    assert not (tmp_path / "fresh-cache" / "checkpoints").exists(), "nothing was pretrained"


def test_a_cache_that_is_a_regular_file_is_an_error(session_cache: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "cache-file"
    blocker.write_text("not a folder")
    env = dict(cli_env(session_cache), AVTBENCH_CACHE=str(blocker))
    out = run(session_cache, "run", "-m", "unaligned", "-t", "ave", "--results", str(tmp_path / "r"), *TINY, env=env)
    assert out.returncode == 2 and out.stderr.count("\n") == 1 and "AVTBENCH_CACHE" in out.stderr, out.stderr


@pytest.mark.slow  # several CLI processes or a whole grid: kept out of the 3-minute default run
def test_a_corrupt_record_is_set_aside_and_the_cell_redone(session_cache: Path, tmp_path: Path) -> None:
    results = tmp_path / "results"
    args = ["run", "-m", "unaligned", "-t", "ave", "-d", "v2a", "--results", str(results), *TINY]
    assert run(session_cache, *args).returncode == 0
    [record] = results.rglob("seed*.json")
    record.write_text("")
    out = run(session_cache, *args)
    assert out.returncode == 0, out.stderr
    assert "redoing" in out.stderr and "moved it to" in out.stderr
    [kept] = [p for p in record.parent.iterdir() if ".corrupt-" in p.name]
    assert kept.read_text() == "" and record.read_text().startswith("{")


def copied_corpus(session_cache: Path, target: Path) -> Path:
    source = tiny_world_root(session_cache) / "corpus"
    target.mkdir()
    for f in (f for f in source.iterdir() if f.is_file()):
        (target / f.name).write_bytes(f.read_bytes())
    return target


def test_a_nan_met_while_streaming_the_corpus_fails_the_cell_with_the_file_and_row(finished: Path, session_cache: Path,
                                                                                  tmp_path: Path) -> None:
    corpus = copied_corpus(session_cache, tmp_path / "corpus")
    with h5py.File(corpus / "audio_feature.h5", "r+") as fh:
        fh["avadataset"][77, 3, 5] = np.nan
    before = snapshot(finished)
    out = run(session_cache, "run", "-m", "cca", "-t", "ave", "-d", "a2v", "--results", str(finished), *TINY,
              "--set", f"data.corpus_root={corpus}", "--set", "cca.views=audio,visual")
    assert out.returncode == 2, out.stderr
    line = error_line(out.stderr)
    assert line.startswith(f"error: {corpus / 'audio_feature.h5'}: features contain NaN or inf (row 77); "), line
    assert intact(before, finished)
    [failure] = (finished / "cca").rglob("*.failure.json")
    assert json.loads(failure.read_text())["kind"] == "user error" and "(row 77)" in failure.read_text()
    failure.unlink()


def test_a_corpus_whose_ids_and_rows_disagree_is_an_error(finished: Path, session_cache: Path, tmp_path: Path) -> None:
    corpus = copied_corpus(session_cache, tmp_path / "corpus")
    ids = corpus / "video_ids.txt"
    ids.write_text(ids.read_text() + "an_extra_clip\n")
    out = run(session_cache, "run", "-m", "cca", "-t", "ave", "-d", "a2v", "--results", str(tmp_path / "r"), *TINY,
              "--set", f"data.corpus_root={corpus}", "--set", "cca.views=audio,visual")
    assert out.returncode == 2, out.stderr
    line = error_line(out.stderr)
    assert "audio_feature.h5" in line and "121 rows" in line and "video_ids.txt" in line, line

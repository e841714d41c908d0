"""A damaged cached artifact (truncated checkpoint, corrupt meta.json, truncated world file, unreadable
embedding) is moved aside, said in one line, and rebuilt; the cell's result is the one a cold run gives."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from avtbench.cli import main
from avtbench.synth.digest import dataset_digests

CELL = ["run", "-m", "unaligned", "-t", "ave", "-d", "v2a", "--set", "data.profile=tiny", "--set", "ave.epochs=2",
        "--device", "cpu"]


def _run(cache: Path, results: Path, *extra: str):
    out = CliRunner().invoke(main, [*CELL, "--cache", str(cache), "--results", str(results), *extra])
    assert out.exit_code == 0, out.output
    [path] = sorted(results.rglob("seed*.json"))
    return out.output, json.loads(path.read_text())


@pytest.fixture
def first(tmp_path: Path):
    cache = tmp_path / "cache"
    _, record = _run(cache, tmp_path / "results")
    return cache, tmp_path / "results", record


def _checkpoint(cache: Path) -> Path:
    [folder] = [p for p in (cache / "checkpoints").iterdir() if ".corrupt-" not in p.name]
    return folder


@pytest.mark.parametrize("damage", ["truncated tensors", "corrupt meta.json"])
def test_a_damaged_checkpoint_is_set_aside_and_pretrained_again(first, damage: str) -> None:
    cache, results, before = first
    folder = _checkpoint(cache)
    if damage == "truncated tensors":
        tensors = folder / "tensors.safetensors"
        tensors.write_bytes(tensors.read_bytes()[: tensors.stat().st_size // 2])
    else:
        (folder / "meta.json").write_text('{"method": ')
    output, after = _run(cache, results, "--overwrite")
    lines = [line for line in output.splitlines() if "damaged cache" in line]
    assert len(lines) == 1 and str(folder) in lines[0] and "pretraining unaligned (seed 0) again" in lines[0], output
    assert after["pretrain"]["cached"] is False and after["pretrain"]["checkpoint"] == before["pretrain"]["checkpoint"]
    assert after["main_value"] == pytest.approx(before["main_value"], abs=1e-6)
    assert len(list((cache / "checkpoints").glob(f"{folder.name}.corrupt-*"))) == 1
    assert (_checkpoint(cache) / "meta.json").is_file()


def test_a_truncated_world_file_is_set_aside_and_generated_again(first) -> None:
    cache, results, before = first
    [world] = (cache / "synth").iterdir()
    intact = dataset_digests(world, raw_level=False)["ave"]
    h5 = world / "ave" / "audio_feature.h5"
    h5.write_bytes(h5.read_bytes()[:1000])
    output, after = _run(cache, results, "--overwrite")
    lines = [line for line in output.splitlines() if "damaged cache" in line]
    assert len(lines) == 1 and "audio_feature.h5" in lines[0] and "generating it again" in lines[0], output
    assert dataset_digests(world, raw_level=False)["ave"] == intact
    assert len(list(world.glob("ave.corrupt-*"))) == 1
    assert after["main_value"] == pytest.approx(before["main_value"], abs=1e-6)


def test_an_unreadable_embedding_is_encoded_again(first) -> None:
    cache, results, before = first
    embeddings = sorted((cache / "embeddings").glob("*.npy"))
    embeddings[0].write_bytes(b"not an array")
    output, after = _run(cache, results, "--overwrite")
    assert sum("damaged cache" in line and "encoding it again" in line for line in output.splitlines()) == 1, output
    assert after["main_value"] == pytest.approx(before["main_value"], abs=1e-6)

"""Plugin API 2: declared datasets, per-dataset roots, validation at plan time, checkpoint folders,
plugin commands and plots, and `--cache` reaching every artifact."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import avtbench.plugins as plugins_module
from avtbench.api import API_VERSION, MethodState, UserError
from avtbench.cache import ArtifactCache
from avtbench.cli import main
from avtbench.plan import make_plan
from avtbench.recording import record_cell
from avtbench.runner import Runner
from avtbench.store import ResultStore

from .conftest import tiny_world_root, user_error
from .third_party import installed_registry, write_dist_info

TOY_PLUGIN = '''
from dataclasses import dataclass
from pathlib import Path

import click
import numpy as np

from avtbench.api import Clips, Dataset, Task, UserError
from avtbench.hookspecs import hookimpl


def read_toy(root, split, level="features"):
    path = Path(root) / f"{split}.npy"
    if not path.is_file():
        raise UserError(f"{path}: file not found; write the toy set first")
    audio = np.load(path, allow_pickle=False)
    return Clips(ids=[str(i) for i in range(len(audio))], audio=audio, visual=audio[:, :, None, None, :],
                 labels={"y": (audio[:, 0, 0] > 0).astype(np.int64)}, class_names=["Low", "High"])


TOY = Dataset("toyset", "train.npy / test.npy: float [N, T, D]", read_toy, ("train", "test"), ("Low", "High"),
              {"High": "something loud"})


class ToyTask(Task):
    name = "toy_task"
    version = "1"
    directions = ("a2v",)
    main_metric = "mean_norm"
    datasets = ("toyset",)

    def splits(self, data):
        return {"test": data["toyset"].read("test")}

    def needs(self, direction, splits):
        return [("test", "audio")]

    def evaluate(self, embeddings, splits, direction, seed, device, progress):
        return {"mean_norm": float(np.linalg.norm(embeddings[("test", "audio")], axis=-1).mean())}


@click.command("toy-hello")
@click.argument("who")
def toy_hello(who):
    """Say hello (a plugin's own command)."""
    click.echo(f"hello {who} from the toy plugin")


@hookimpl
def avtbench_datasets():
    return [TOY]


@hookimpl
def avtbench_tasks():
    return [ToyTask]


@hookimpl
def avtbench_commands():
    return [toy_hello]
'''


@pytest.fixture
def toy_registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    site = tmp_path / "site"
    site.mkdir()
    (site / "toy_avt.py").write_text(TOY_PLUGIN)
    return installed_registry(write_dist_info(site, "toy_avt", {"toy": "toy_avt"}), monkeypatch)


def write_toy(root: Path) -> Path:
    root.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for split in ("train", "test"):
        np.save(root / f"{split}.npy", rng.standard_normal((6, 3, 32)).astype(np.float32))  # the tiny world's audio width
    return root


def test_a_plugin_declares_a_dataset_and_a_task_reads_it_from_its_root(toy_registry, tmp_path: Path, session_cache: Path) -> None:
    assert "toyset" in toy_registry.datasets and "ave" in toy_registry.datasets
    root = write_toy(tmp_path / "toy")
    document = {"data": {"toyset_root": str(root), "profile": "tiny"}}
    cache = ArtifactCache(session_cache)
    plan = make_plan(toy_registry, ["unaligned"], ["toy_task"], [], [0], document, cache)
    assert set(plan.cells[0].cell.data["fingerprints"]) == {"corpus", "toyset"}
    source = plan.data.source("toyset")
    assert source.origin == "real" and source.read("test").descriptions == ["low", "something loud"]
    record = record_cell(ResultStore(tmp_path / "results"), Runner(cache, plan.data), plan.cells[0])
    assert record.sources["toyset"] == "real" and record.sources["corpus"].startswith("synthetic world tiny")
    assert record.main_value > 0 and record.versions["plugin_api"] == API_VERSION


def test_a_dataset_no_one_can_provide_is_an_error_at_plan_time(toy_registry, tmp_path: Path) -> None:
    cache = ArtifactCache(tmp_path / "cache")
    message = user_error(make_plan, toy_registry, ["unaligned"], ["toy_task"], [], [0], {}, cache)
    assert "toyset" in message and "data.toyset_root" in message
    assert not (tmp_path / "cache").exists(), "nothing may be written before the plan is valid"
    message = user_error(make_plan, toy_registry, ["unaligned"], ["ave"], [], [0], {"data": {"nosuch_root": "/x"}}, cache)
    assert "no dataset 'nosuch'" in message and "toyset_root" in message


def test_a_split_the_dataset_lacks_is_a_clear_error(toy_registry, tmp_path: Path) -> None:
    plan = make_plan(toy_registry, ["unaligned"], ["toy_task"], [], [0],
                     {"data": {"toyset_root": str(write_toy(tmp_path / "toy"))}}, ArtifactCache(tmp_path / "c"))
    assert "has no split 'val'" in user_error(plan.data.source("toyset").read, "val")


def test_a_plugin_command_runs_under_avtbench(toy_registry) -> None:
    result = CliRunner().invoke(main, ["toy-hello", "world"])
    assert result.exit_code == 0 and result.output.strip() == "hello world from the toy plugin"
    listing = CliRunner().invoke(main, ["list"])
    assert "plugin commands: toy-hello" in listing.output and "toyset" in listing.output


@pytest.mark.parametrize("method, task, document, named", [
    ("unaligned", "ave", {"unaligned": {"dim": 0}}, "unaligned.dim"),
    ("oracle", "ave", {"oracle": {"epochs": 0}}, "oracle.epochs"),
    ("unified_vq", "ave", {"unified_vq": {"cpc_steps": 9}}, "unified_vq.cpc_steps"),
    ("vip_ant", "ave", {"vip_ant": {"window_seconds": 0}}, "vip_ant.window_seconds"),
    ("unaligned", "avvp", {"avvp": {"protocol": "nope"}}, "avvp.protocol"),
])
def test_method_and_task_validate_before_anything_is_written(tmp_path: Path, method, task, document, named) -> None:
    cache = ArtifactCache(tmp_path / "cache")
    message = user_error(make_plan, plugins_module.registry(), ["unaligned", method], [task], [], [0], document, cache)
    assert named in message
    assert not (tmp_path / "cache").exists()


def test_checkpoint_is_a_folder_of_safetensors_and_json_reloaded_through_load(session_cache: Path, tmp_path: Path) -> None:
    tiny_world_root(session_cache)
    cache = ArtifactCache(session_cache)
    plan = make_plan(plugins_module.registry(), ["unaligned"], ["zeroshot"], [], [0], {"data": {"profile": "tiny"}}, cache)
    planned = plan.cells[0]
    first = record_cell(ResultStore(tmp_path / "a"), Runner(cache, plan.data), planned, overwrite=True)
    folder = cache.checkpoint_dir(first.pretrain.checkpoint)
    assert sorted(p.name for p in folder.iterdir()) == ["meta.json", "state.json", "tensors.safetensors"]
    state = MethodState.load(folder)
    assert "the" in state.extra["vocabulary"] and "projection.text" in state.tensors
    second = record_cell(ResultStore(tmp_path / "b"), Runner(cache, plan.data), planned)
    assert second.pretrain.cached is True
    assert second.metrics == first.metrics


def test_a_corrupt_saved_method_is_a_one_line_error(tmp_path: Path) -> None:
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "tensors.safetensors").write_bytes(b"not safetensors")
    (tmp_path / "m" / "state.json").write_text("{}")
    assert "unreadable" in user_error(MethodState.load, tmp_path / "m")


def test_the_codebook_plot_comes_from_the_plugin_through_the_plot_hook() -> None:
    registry = plugins_module.registry()
    plot = registry.plot("codebook")
    assert plot.method == "unified_vq" and registry.origins["plot:codebook"] == "unified_vq"
    with pytest.raises(UserError, match="did you mean 'codebook'"):
        registry.plot("codebok")


def test_a_task_reading_an_undeclared_dataset_is_told_so(toy_registry, tmp_path: Path, session_cache: Path) -> None:
    task_cls = toy_registry.task("toy_task")
    sneaky = type("Sneaky", (task_cls,), {"name": "sneaky", "splits": lambda self, data: {"test": data["ave"].read("test")}})
    toy_registry.tasks["sneaky"] = sneaky
    plan = make_plan(toy_registry, ["unaligned"], ["sneaky"], [], [0],
                     {"data": {"toyset_root": str(write_toy(tmp_path / "toy")), "profile": "tiny"}}, ArtifactCache(session_cache))
    runner = Runner(ArtifactCache(session_cache), plan.data)
    message = user_error(record_cell, ResultStore(tmp_path / "r"), runner, plan.cells[0])
    assert "reads dataset 'ave' without declaring it" in message


@pytest.mark.slow  # several CLI processes or a whole grid: kept out of the 3-minute default run
def test_cache_option_reaches_the_world_checkpoints_embeddings_and_backbones(tmp_path: Path, session_cache: Path) -> None:
    elsewhere, chosen = tmp_path / "env-cache", tmp_path / "chosen"
    elsewhere.mkdir()
    world = tiny_world_root(session_cache)  # hard links: the run finds its world under --cache without regenerating it
    shutil.copytree(world, chosen / world.relative_to(session_cache), copy_function=os.link)
    settings = ["unified_vq.modalities=audio,text", "unified_vq.epochs=1", "unified_vq.codebook_size=8",
                "unified_vq.embedding_dim=8", "unified_vq.semantic_ff_dim=16", "unified_vq.audio_hidden=8",
                "unified_vq.text_hidden=8", "unified_vq.text_lstm_hidden=4", "unified_vq.synth_text_hidden=8",
                "unified_vq.synth_text_layers=1", "unified_vq.synth_text_steps=2", "unified_vq.club_hidden=8",
                "unified_vq.club_positions=0", "unified_vq.cpc_context_dim=8", "data.profile=tiny"]
    args = ["run", "-m", "unified_vq", "-t", "zeroshot", "--cache", str(chosen), "--results", str(tmp_path / "r"),
            "--device", "cpu", *[a for s in settings for a in ("--set", s)]]
    result = CliRunner(env={"AVTBENCH_CACHE": str(elsewhere)}).invoke(main, args)
    assert result.exit_code == 0, result.output
    assert list(elsewhere.iterdir()) == []
    for folder in ("checkpoints", "embeddings", "backbones/synth-text"):
        assert any((chosen / folder).iterdir()), folder


TINY_UNIFIED_VQ = ["unified_vq.epochs=1", "unified_vq.codebook_size=8", "unified_vq.embedding_dim=8",
                   "unified_vq.semantic_ff_dim=16", "unified_vq.audio_hidden=8", "unified_vq.video_hidden=4",
                   "unified_vq.club_hidden=8", "unified_vq.club_positions=0", "unified_vq.cpc_context_dim=8",
                   "data.profile=tiny"]


@pytest.mark.slow  # several CLI processes or a whole grid: kept out of the 3-minute default run
def test_plot_command_pretrains_the_plots_method_and_draws_it(tmp_path: Path, session_cache: Path) -> None:
    tiny_world_root(session_cache)
    sets = [a for s in TINY_UNIFIED_VQ for a in ("--set", s)]
    out = tmp_path / "usage.svg"
    result = CliRunner().invoke(main, ["plot", "codebook", "--cache", str(session_cache), "--device", "cpu",
                                       "--out", str(out), *sets])
    assert result.exit_code == 0, result.output
    assert "<svg" in out.read_text() and "Codebook usage per epoch" in out.read_text() and f"wrote {out}" in result.output
    wrong = CliRunner().invoke(main, ["plot", "codebook", "-m", "oracle", "--out", str(out)])
    assert wrong.exit_code == 2 and "draws method 'unified_vq', not 'oracle'" in wrong.output

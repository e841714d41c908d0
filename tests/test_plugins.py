import importlib.metadata
import subprocess
import sys

import pytest

from avtbench.api import UserError
from avtbench.plugins import discover

from .conftest import avtbench_cmd, cli_env
from .third_party import install_api1_distribution, install_fake_distribution


def test_builtin_plugins_are_found_through_entry_points():
    registry = discover()
    assert {"unaligned", "oracle"} <= set(registry.methods)
    assert {"ave", "avvp", "ave_avvp"} <= set(registry.tasks)
    assert registry.origins["method:unaligned"] == "unaligned"


def test_third_party_entry_point_is_discovered_and_broken_one_is_reported(tmp_path, monkeypatch):
    site = install_fake_distribution(tmp_path / "site")
    monkeypatch.syspath_prepend(str(site))
    registry = discover(importlib.metadata.entry_points(group="avtbench"))
    assert registry.methods["third_party_mean"].version == "7"
    assert "unaligned" in registry.methods, "a broken plugin must not hide the others"
    failure = next(f for f in registry.failures if f.plugin == "broken_plugin")
    assert "ModuleNotFoundError" in failure.error and "a_module_that_does_not_exist" in failure.error
    with pytest.raises(UserError, match="failed to load"):
        registry.method("broken_plugin")


def test_unknown_name_suggests_the_closest():
    registry = discover()
    with pytest.raises(UserError, match="did you mean 'unaligned'"):
        registry.method("unalinged")
    with pytest.raises(UserError, match="did you mean 'avvp'"):
        registry.task("avpp")


def test_hook_returning_a_non_method_is_a_failure_not_a_crash(tmp_path, monkeypatch):
    site = tmp_path / "site"
    site.mkdir()
    (site / "bad_hook.py").write_text(
        "from avtbench.hookspecs import hookimpl\n@hookimpl\ndef avtbench_methods():\n    return [object]\n")
    info = site / "bad_hook-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: bad-hook\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[avtbench]\nbad_hook = bad_hook\n")
    monkeypatch.syspath_prepend(str(site))
    registry = discover(importlib.metadata.entry_points(group="avtbench"))
    assert any(f.plugin == "bad_hook" and "not a subclass" in f.error for f in registry.failures)
    assert "unaligned" in registry.methods


def test_list_command_shows_third_party_and_failure(tmp_path, session_cache):
    site = install_fake_distribution(tmp_path / "site")
    out = subprocess.run(avtbench_cmd("list"), capture_output=True, text=True, env=cli_env(session_cache, site))
    assert out.returncode == 0, out.stderr
    assert "third_party_mean" in out.stdout and "unaligned" in out.stdout
    assert "failed plugin broken_plugin" in out.stdout


@pytest.mark.slow  # CLI processes end to end: kept out of the 3-minute default run
def test_pip_installed_package_with_entry_point(tmp_path, session_cache):
    """A real `pip install` of a third-party package: its entry point makes the method appear."""
    pytest.importorskip("setuptools")
    from .third_party import GOOD_PLUGIN

    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "thirdparty_avt.py").write_text(GOOD_PLUGIN)
    (pkg / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools"]\nbuild-backend = "setuptools.build_meta"\n'
        '[project]\nname = "thirdparty-avt"\nversion = "0.1"\n'
        '[tool.setuptools]\npy-modules = ["thirdparty_avt"]\n'
        '[project.entry-points.avtbench]\nthird_party_mean = "thirdparty_avt"\n')
    site = tmp_path / "site"
    install = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
                              "--no-index", "--target", str(site), str(pkg)], capture_output=True, text=True)
    assert install.returncode == 0, install.stderr
    out = subprocess.run(avtbench_cmd("list"), capture_output=True, text=True, env=cli_env(session_cache, site))
    assert out.returncode == 0, out.stderr
    assert "third_party_mean" in out.stdout and "a third-party method" in out.stdout


@pytest.mark.slow  # several CLI processes or a whole grid: kept out of the 3-minute default run
def test_a_plugin_written_for_api_1_is_named_unusable_not_run(tmp_path, monkeypatch, session_cache):
    site = install_api1_distribution(tmp_path / "site")
    monkeypatch.syspath_prepend(str(site))
    registry = discover(importlib.metadata.entry_points(group="avtbench"))
    assert "old_style" not in registry.methods and "unaligned" in registry.methods
    old = next(f for f in registry.failures if f.plugin == "old_plugin")
    assert old.unusable and old.target == "method old_style" and "written for plugin API 1" in old.error
    assert "Migrating a plugin" in old.error
    future = next(f for f in registry.failures if f.plugin == "future_plugin")
    assert future.unusable and "plugin API 9" in future.error and "upgrade avtbench" in future.error
    with pytest.raises(UserError, match="method old_style .plugin 'old_plugin'. cannot run here: written for plugin API 1"):
        registry.method("old_style")
    env = cli_env(session_cache, site)
    listed = subprocess.run(avtbench_cmd("list"), capture_output=True, text=True, env=env, timeout=120)
    assert listed.returncode == 0 and "unusable plugin old_plugin (method old_style): written for plugin API 1" in \
        " ".join(listed.stdout.split())
    for command in (["run", "-m", "old_style", "-t", "ave", "--set", "data.profile=tiny"], ["check", "old_style"]):
        out = subprocess.run(avtbench_cmd(*command, "--results", str(tmp_path / "r")) if command[0] == "run"
                             else avtbench_cmd(*command), capture_output=True, text=True, env=env, timeout=120)
        assert out.returncode == 2, out.stderr
        [line] = out.stderr.strip().splitlines()
        assert line.startswith("error: method old_style (plugin 'old_plugin') cannot run here: written for plugin API 1")
    assert not (tmp_path / "r").exists(), "nothing ran"


def test_the_built_in_plugins_stream():
    from avtbench.compat import stated_api, unusable

    registry = discover()
    for cls in [*registry.methods.values(), *registry.tasks.values()]:
        assert stated_api(cls) == "3" and unusable(cls) is None, cls.name


def test_an_api_2_plugin_that_states_nothing_runs_unchanged_on_data_in_memory(session_cache, caplog):
    import numpy as np
    import torch

    from avtbench.api import Method, MethodState
    from avtbench.testing import run_cell

    class InMemory(Method):  # written for API 2: states nothing, takes whole arrays
        name = "in_memory"

        def pretrain(self, corpus, workdir, progress):
            assert isinstance(corpus.audio, np.ndarray) and isinstance(corpus.visual, np.ndarray)
            self.scale = torch.tensor(float(np.abs(corpus.audio).mean()))
            return {"scale": float(self.scale)}

        def encode(self, modality, batch):
            x = batch.float()
            return (x.mean(dim=(2, 3)) if x.dim() == 5 else x)[..., :4] / self.scale

        def state(self):
            return MethodState({"scale": self.scale})

        def load_state(self, state):
            self.scale = state.tensors["scale"]

    record = run_cell(InMemory, "ave", "a2v", cache_dir=session_cache)
    assert record.metrics and record.pretrain.stats["scale"] > 0
    assert any(name.startswith("accuracy[") for name in record.metrics)  # ave's per-class accuracies
    assert "method 'in_memory' implements plugin API 2: its data is read into memory (it does not stream" in caplog.text

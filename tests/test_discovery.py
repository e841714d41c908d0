"""Lazy discovery: cards are read without importing the code behind them; objects are imported on first
use and checked against their cards; `avtbench list` and `--help` import no torch."""
from __future__ import annotations

import importlib.metadata
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from avtbench import plugins as plugins_module
from avtbench.api import Method, UserError
from avtbench.cards import MethodCard, TaskCard
from avtbench.cli import main
from avtbench.plugins import discover

from .conftest import cli_env
from .third_party import install_carded_distribution

HEAVY = ("torch", "numpy", "scipy", "h5py", "transformers")
"""What `avtbench list` and `--help` must not import (torch above all; the others cost their targets)."""

PROBE = """
import sys
from avtbench.cli import main
try:
    main({args!r})
except SystemExit as exc:
    assert not exc.code, exc.code
heavy = [m for m in {heavy!r} if m in sys.modules]
code = sorted(m for m in sys.modules if m.startswith("avtbench_plugins") and not m.endswith("vocab")
              and m.count(".") > 2)
assert not heavy and not code, f"imported {{heavy}} and plugin code {{code}}"
"""


@pytest.mark.parametrize("args", [["list"], ["--help"]])
def test_list_and_help_import_no_torch_and_no_plugin_code(args: list[str], tmp_path: Path) -> None:
    """In a fresh process, as a user runs them: a top-level `import torch` (or of a plugin's model code) in
    any installed plugin's entry-point module makes this fail, naming what was imported."""
    probe = PROBE.format(args=args, heavy=HEAVY)
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=cli_env(tmp_path), timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]


def test_every_built_in_card_says_what_its_object_says() -> None:
    registry = discover()
    for kind, catalog in registry.catalogs().items():
        for card in catalog.cards():
            assert card.mismatch(catalog[card.name]) is None, (kind, card.name)
    assert registry.failures == []


def forget(package: str) -> None:
    """Drop `package` and its modules from sys.modules: the next test imports its own copy afresh."""
    for name in [m for m in sys.modules if m == package or m.startswith(package + ".")]:
        del sys.modules[name]


@pytest.fixture
def carded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    site = install_carded_distribution(tmp_path / "site")
    monkeypatch.syspath_prepend(str(site))
    registry = discover(importlib.metadata.entry_points(group="avtbench"))
    monkeypatch.setattr(plugins_module, "_REGISTRY", registry)
    yield registry
    forget("carded_avt")


def test_a_carded_plugin_is_listed_from_its_cards_and_imported_on_use(carded) -> None:
    assert "carded_mean" in carded.methods and "carded_avt.method" not in sys.modules
    listing = CliRunner().invoke(main, ["list"])
    assert listing.exit_code == 0 and "a third-party method known by its card" in listing.output
    assert "carded-hello" in listing.output and "carded_avt.method" not in sys.modules
    help_text = CliRunner().invoke(main, ["--help"]).output
    assert "carded-hello  Say hello from a card." in help_text and "carded_avt.command" not in sys.modules
    cls = carded.method("carded_mean")
    assert (cls.name, cls.version, cls.summary) == ("carded_mean", "5", "a third-party method known by its card")
    assert carded.origins["method:carded_mean"] == "carded"
    hello = CliRunner().invoke(main, ["carded-hello"])
    assert hello.exit_code == 0 and hello.output == "hello from the carded plugin\n"


def test_a_class_that_contradicts_its_card_is_one_line_naming_the_field(carded) -> None:
    with pytest.raises(UserError) as caught:
        carded.method("carded_wrong")
    assert str(caught.value) == ("method carded_wrong (plugin 'carded') failed to load: its card says version '2', "
                                 "carded_avt.method:Wrong says '3' (fix one of them); fix or reinstall the plugin")
    with pytest.raises(UserError, match="failed to load: ModuleNotFoundError: No module named 'carded_avt.nowhere'"):
        carded.method("carded_missing")
    assert "carded_missing" not in carded.methods and "unaligned" in carded.methods


def test_a_carded_api_1_class_stops_run_and_check_before_any_work(carded, tmp_path: Path) -> None:
    with pytest.raises(UserError, match="method carded_old .plugin 'carded'. cannot run here: written for plugin API 1"):
        carded.method("carded_old")
    for args in (["run", "-m", "carded_old", "-t", "ave", "--results", str(tmp_path / "r")], ["check", "carded_old"]):
        out = CliRunner().invoke(main, args)
        assert out.exit_code == 2 and "cannot run here: written for plugin API 1" in out.output, out.output
    assert not (tmp_path / "r").exists()


def test_check_names_a_carded_method_that_fails_to_import(carded) -> None:
    out = CliRunner().invoke(main, ["check", "carded_missing"])
    assert out.exit_code == 1
    assert "FAIL  plugin carded: loads (ModuleNotFoundError: No module named 'carded_avt.nowhere')" in out.output


def test_a_class_reads_its_fields_from_its_card_and_may_not_contradict_it() -> None:
    card = TaskCard(name="t", target="m:T", version="2", directions=("a2t",), main_metric="f1", datasets=("ave",))

    class FromCard:
        pass

    card.adopt(FromCard)
    assert (FromCard.name, FromCard.version, FromCard.directions, FromCard.main_metric) == ("t", "2", ("a2t",), "f1")
    with pytest.raises(TypeError, match="Twice states version = '3' but its card '2': state it in the card only"):
        class Twice(Method):
            card = MethodCard(name="twice", target="m:Twice", version="2")
            version = "3"


@pytest.mark.parametrize("bad, message", [
    (dict(name="", target="m:C"), "needs a name"),
    (dict(name="x", target="m.C"), "is not 'package.module:attribute'"),
])
def test_a_malformed_card_is_an_error_where_it_is_written(bad: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        MethodCard(**bad)


def test_the_readme_card_example_lists_lightly_and_loads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from .test_readme_plugin import readme_block

    site = tmp_path / "site"
    (site / "my_light_method").mkdir(parents=True)
    for module in ("__init__", "method"):
        path = f"my_light_method/{module}.py"
        (site / path).write_text(readme_block(f"# {path}"))
    info = site / "my_light_method-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: my-light-method\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[avtbench]\nmy_light_method = my_light_method\n")
    monkeypatch.syspath_prepend(str(site))
    try:
        registry = discover(importlib.metadata.entry_points(group="avtbench"))
        [card] = [c for c in registry.methods.cards() if c.name == "my_light_method"]
        assert card.summary == "mean of each segment's first 8 features" and "my_light_method.method" not in sys.modules
        cls = registry.method("my_light_method")
        assert cls.card is card and (cls.name, cls.version, cls.modalities) == ("my_light_method", "1", ("audio", "visual"))
    finally:
        forget("my_light_method")

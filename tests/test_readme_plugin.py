"""The README's plugin example, as written there: installed with pip, checked, run in a grid, and its
author-side tests run with pytest."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import avtbench_cmd, cli_env, tiny_world_root

README = Path(__file__).resolve().parents[1] / "README.md"


def readme_block(first_line: str) -> str:
    """The fenced code block of the README whose first line is `first_line`."""
    for block in re.findall(r"```[a-z]*\n(.*?)```", README.read_text(), flags=re.S):
        if block.splitlines()[0].strip() == first_line:
            return block
    raise AssertionError(f"README has no code block starting with {first_line!r}")


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("setuptools")
    root = tmp_path_factory.mktemp("readme-plugin")
    package = root / "pkg"
    (package / "my_method").mkdir(parents=True)
    (package / "my_method" / "__init__.py").write_text(readme_block("# my_method/__init__.py"))
    (package / "pyproject.toml").write_text(readme_block("# pyproject.toml of your package"))
    (root / "tests").mkdir()
    (root / "tests" / "test_my_method.py").write_text(readme_block("# tests/test_my_method.py of your package"))
    site = root / "site"
    install = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
                              "--no-index", "--target", str(site), str(package)], capture_output=True, text=True)
    assert install.returncode == 0, install.stderr
    return site


def test_avtbench_check_passes_on_the_readme_method(installed: Path, session_cache: Path) -> None:
    out = subprocess.run(avtbench_cmd("check", "my_method", "--cache", str(session_cache)), capture_output=True,
                         text=True, env=cli_env(session_cache, installed))
    assert out.returncode == 0, out.stdout + out.stderr
    lines = out.stdout.splitlines()
    assert len(lines) == 9 and all(line.startswith("PASS  method my_method: ") for line in lines)
    assert lines[-1].startswith("PASS  method my_method: streams its corpus (")


@pytest.mark.slow  # several CLI processes or a whole grid: kept out of the 3-minute default run
def test_a_grid_runs_the_readme_method_on_every_direction(installed: Path, session_cache: Path, tmp_path: Path) -> None:
    tiny_world_root(session_cache)
    results = tmp_path / "results"
    out = subprocess.run(avtbench_cmd("run", "-m", "my_method,unaligned", "-t", "ave", "--set", "data.profile=tiny",
                                      "--set", "ave.epochs=3", "--results", str(results), "--device", "cpu"),
                         capture_output=True, text=True, env=cli_env(session_cache, installed))
    assert out.returncode == 0, out.stderr
    records = [json.loads(p.read_text()) for p in results.rglob("seed*.json")]
    assert sorted((r["method"], r["direction"]) for r in records) == [
        ("my_method", "a2v"), ("my_method", "v2a"), ("unaligned", "a2v"), ("unaligned", "v2a")]
    assert all(r["versions"]["plugin_api"] == "3" and r["versions"]["method_api"] == "3" for r in records)


@pytest.mark.slow  # CLI processes end to end: kept out of the 3-minute default run
def test_the_readme_author_tests_pass_with_pytest(installed: Path, session_cache: Path) -> None:
    tests = installed.parent / "tests" / "test_my_method.py"
    out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tests)],
                         capture_output=True, text=True, env=cli_env(session_cache, installed), cwd=installed.parent)
    assert out.returncode == 0, out.stdout[-2000:]
    assert "2 passed" in out.stdout

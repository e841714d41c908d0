"""The report of a small grid, opened from the file system in headless Chromium (Debian's `chromium`): every
page loads with no console error, no failed load and every image shown; a screenshot of the index is taken.

Skipped, saying why, where Chromium is not installed (`make install-browser` installs it; CI does).
`AVTBENCH_REPORT_SCREENSHOT=FILE` keeps the index's screenshot.
"""
from __future__ import annotations

import os
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from avtbench.record import CellFailure
from avtbench.store import ResultStore
from avtbench.tables import build_table

from .browser import Chromium, find_chromium
from .conftest import avtbench_cmd, cli_env

pytestmark = pytest.mark.slow

GRID = ["run", "-m", "unaligned,oracle,unified_vq", "-t", "ave,avs_s4", "-s", "0,1,2", "--set", "data.profile=tiny",
        "--set", "ave.epochs=2", "--set", "oracle.epochs=2", "--set", "unified_vq.epochs=2", "--set", "avs_s4.preset=tiny",
        "--set", "unified_vq.modalities=audio,visual,text", "--device", "cpu", "-q"]


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()[:24]
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", data[16:24])


def test_the_report_of_a_small_grid_opens_in_headless_chromium(tmp_path: Path, session_cache: Path) -> None:
    chromium = find_chromium()
    if chromium is None:
        pytest.skip("Chromium is not installed: `make install-browser` (Debian: apt-get install chromium) to run "
                    "the report's browser test, or point AVTBENCH_CHROMIUM at a chromium executable")
    results, site = tmp_path / "results", tmp_path / "site"
    env = dict(cli_env(session_cache), OMP_NUM_THREADS="1")
    grid = subprocess.run(avtbench_cmd(*GRID, "--results", str(results)), env=env, capture_output=True, text=True)
    assert grid.returncode == 0, grid.stderr[-2000:]
    store = ResultStore(results)
    records = list(store.records())
    entries = len(build_table(records).cells)  # oracle is audio-visual: no avs_s4 (audio <-> text) cells
    assert entries == 3 * 4 - 2
    store.write_failure(_failed(records[0]), CellFailure("RuntimeError: a made-up crash",
                                                         traceback="Traceback ...\nRuntimeError"))
    made = subprocess.run(avtbench_cmd("report", "--results", str(results), "--out", str(site)), env=env,
                          capture_output=True, text=True)
    assert made.returncode == 0, made.stderr[-2000:]
    pages = sorted(site.rglob("*.html"))
    assert len(pages) > 30
    problems: list[str] = []
    with Chromium(chromium) as browser:
        index = browser.visit((site / "index.html").as_uri())
        assert index.table_entries == entries and index.images >= 4  # per-class bars and curves in the gallery
        shot = browser.screenshot(tmp_path / "index.png")
        images = 0
        for page in pages:
            seen = index if page == site / "index.html" else browser.visit(page.as_uri())
            problems += [f"{page.relative_to(site)}: {p}" for p in seen.problems]
            images += seen.images
    assert problems == []
    assert images > len(pages)
    width, height = png_size(shot)
    assert width == 1400 and height > 900
    if os.environ.get("AVTBENCH_REPORT_SCREENSHOT"):
        shutil.copy(shot, os.environ["AVTBENCH_REPORT_SCREENSHOT"])


def _failed(record):
    """A cell place for a failure record: the first record's cell under another seed."""
    from types import SimpleNamespace

    seed = record.seed + 100
    return SimpleNamespace(method=record.method, task=record.task, direction=record.direction, seed=seed,
                           config_hash=record.config_hash, cell_hash=f"failed-{seed}",
                           label=lambda: f"{record.method} / {record.task} / {record.direction} / seed {seed}")

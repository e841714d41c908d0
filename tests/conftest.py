import os
import sys
from pathlib import Path

import numpy as np
import pytest

from avtbench.data.rows import MemoryRows, RowArray

from avtbench.api import UserError

REAL_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"


@pytest.fixture(scope="session")
def session_cache(tmp_path_factory) -> Path:
    """One artifact cache for the whole test session, so the tiny synthetic world is generated once."""
    return tmp_path_factory.mktemp("avtbench-cache")


def tiny_world_root(cache: Path) -> Path:
    """The whole tiny synthetic world (every dataset, both levels) where the plan's provider finds it."""
    from avtbench.synth.provider import SyntheticWorld
    from avtbench.synth.world import ensure_world

    return ensure_world(SyntheticWorld("tiny", 0, cache).folder, "tiny", 0)


@pytest.fixture
def cache_env(session_cache, monkeypatch) -> Path:
    monkeypatch.setenv("AVTBENCH_CACHE", str(session_cache))
    return session_cache


def cli_env(cache: Path, extra_path: Path | None = None) -> dict[str, str]:
    env = dict(os.environ, AVTBENCH_CACHE=str(cache), COLUMNS="200")
    if extra_path is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(extra_path), env.get("PYTHONPATH")]))
    return env


def avtbench_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "avtbench.cli", *args]


@pytest.fixture(scope="module")
def one_thread():
    """Tiny models run faster on one thread, and a busy machine cannot stall a second one."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def whole(reader):
    """`reader` whose clips come back with every array read (readers are lazy: a bad row is met when read)."""
    return lambda *args, **kwargs: reader(*args, **kwargs).materialized()


def user_error(call, *args, **kwargs) -> str:
    """The one-line message of the UserError that call(*args, **kwargs) raises."""
    with pytest.raises(UserError) as info:
        call(*args, **kwargs)
    message = str(info.value)
    assert "\n" not in message
    return message


class CountingRows(RowArray):
    """A RowArray over another (or over an array) that records how many rows each read asks for and
    refuses to be read whole: for tests that a method streams its corpus."""

    def __init__(self, base, reads: list[int]) -> None:
        self.base = base if isinstance(base, RowArray) else MemoryRows(np.asarray(base))
        self.reads, self.shape, self.dtype = reads, self.base.shape, self.base.dtype

    def read(self, rows: np.ndarray) -> np.ndarray:
        self.reads.append(len(rows))
        return self.base.read(rows)

    def __array__(self, dtype=None, copy=None):
        raise AssertionError("the whole array was read")


@pytest.fixture
def no_memmaps(monkeypatch):
    """Opening a numpy memory map fails (`np.memmap`, hence `np.load(mmap_mode=...)` and `open_memmap`
    too): the pages of a map walked over derived data count as resident, growing with the corpus."""
    def refuse(*args, **kwargs):
        raise AssertionError("a numpy memory map was opened")

    monkeypatch.setattr(np.memmap, "__new__", refuse)


@pytest.fixture
def extractors(monkeypatch):
    """The plugin registry with the two tiny extractors of `tests/video_fixtures.py` (`mean_frame`,
    `rms_audio`) added, for the extract tests (which skip without PyAV before asking for it)."""
    from avtbench import plugins
    from tests.video_fixtures import MeanFrame, RmsAudio

    reg = plugins.registry().copy()
    reg.extractors["mean_frame"] = MeanFrame
    reg.extractors["rms_audio"] = RmsAudio
    monkeypatch.setattr(plugins, "_REGISTRY", reg)
    return reg

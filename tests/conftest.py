import os
import sys
from pathlib import Path

import pytest

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

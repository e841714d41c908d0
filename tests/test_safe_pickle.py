"""The restricted unpickler admits data and refuses, before running it, anything else a pickle names."""
import io
import os
import pickle
from pathlib import Path

import numpy as np
import pytest

from avtbench.errors import UserError
from avtbench.safe_pickle import AllowList, RefusedPickle, numpy_arrays, restricted_load


class RunsCode:
    def __reduce__(self):
        return (os.system, ("touch " + str(Path(os.environ["SAFE_PICKLE_MARK"])),))


def test_numpy_arrays_scalars_and_containers_load() -> None:
    data = {"audio": np.arange(12, dtype=np.float32).reshape(3, 4), "n": np.int64(7), "f": np.float64(0.5),
            "ids": ["a", "b"], "t": (1, 2.0, None), "b": np.array([True, False])}
    for protocol in (2, 4, 5):
        got = restricted_load(io.BytesIO(pickle.dumps(data, protocol=protocol)), numpy_arrays())
        assert got.keys() == data.keys() and np.array_equal(got["audio"], data["audio"])
        assert got["audio"].dtype == np.float32 and got["n"] == 7 and got["f"] == 0.5 and got["t"] == (1, 2.0, None)


def test_a_pickle_that_would_run_code_is_refused_before_it_runs(tmp_path: Path, monkeypatch) -> None:
    mark = tmp_path / "ran"
    monkeypatch.setenv("SAFE_PICKLE_MARK", str(mark))
    payload = pickle.dumps({"audio": np.zeros(2), "x": RunsCode()})
    with pytest.raises(RefusedPickle, match=r"evil.pkl holds a pickled posix.system|evil.pkl holds a pickled os.system"):
        restricted_load(io.BytesIO(payload), numpy_arrays(), source="evil.pkl")
    assert not mark.exists(), "the refused global was never called"


def test_an_allow_list_entry_can_stand_in_for_a_class() -> None:
    class Config:
        def __init__(self, **kw):
            self.kw = kw

        def __reduce__(self):
            return (Config, (), self.kw)

    Config.__module__, Config.__qualname__ = "somelib.config", "Config"
    allow = numpy_arrays().with_({("somelib.config", "Config"): dict})
    assert isinstance(restricted_load(io.BytesIO(pickle.dumps({"x": 1})), AllowList()), dict)
    assert allow.resolve("somelib.config", "Config") is dict


def test_a_damaged_pickle_is_one_line_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "cut.pkl"
    path.write_bytes(pickle.dumps(np.arange(100))[:40])
    with pytest.raises(UserError, match=r"cut.pkl is not a readable pickle"):
        restricted_load(path, numpy_arrays())

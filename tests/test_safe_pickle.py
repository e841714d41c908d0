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


class _HiddenObjectDType:
    """Pickles as numpy.dtype("V8") rebuilt with a state that declares an object field but hides it
    (flags 0): numpy itself would then read the array's bytes as object pointers."""

    def __reduce__(self):
        return (np.dtype, ("V8", False, True), (3, "|", None, ("a",), {"a": (np.dtype("O"), 0)}, 8, 1, 0))


class _ArrayOfHiddenObjects:
    def __init__(self, maker):
        self.maker = maker

    def __reduce__(self):
        from numpy._core.numeric import _frombuffer

        return self.maker(_frombuffer)


@pytest.mark.parametrize("maker", [
    lambda frombuffer: (frombuffer, (b"\x41" * 8, _HiddenObjectDType(), (1,), "C")),
    lambda frombuffer: (np.ndarray, ((1,), _HiddenObjectDType(), 0, b"\x41" * 8)),
])
def test_a_dtype_hiding_an_object_field_is_refused_not_read_as_pointers(maker) -> None:
    payload = pickle.dumps(_ArrayOfHiddenObjects(maker), protocol=4)  # never pickle.loads this: it would crash
    with pytest.raises(UserError, match="not a readable pickle"):
        restricted_load(io.BytesIO(payload), numpy_arrays(), source="crafted.pkl")


@pytest.mark.parametrize("call", [(bytearray, (2**40,)), (bytearray, (2**70,))])
def test_a_pickle_asking_for_huge_allocations_is_one_line(call) -> None:
    class Huge:
        def __reduce__(self):
            return call

    with pytest.raises(UserError, match="not a readable pickle"):
        restricted_load(io.BytesIO(pickle.dumps(Huge(), protocol=4)), numpy_arrays(), source="huge.pkl")


def test_structured_and_object_arrays_are_refused_plain_ones_of_every_kind_load() -> None:
    for dtype in ("b1", "i1", "u2", ">i4", "<f8", "f2", "c16"):
        data = (np.arange(6) % 2).astype(dtype).reshape(2, 3)
        for protocol in (2, 5):
            got = restricted_load(io.BytesIO(pickle.dumps(data, protocol=protocol)), numpy_arrays())
            assert got.dtype == data.dtype and np.array_equal(got, data)
    for bad in (np.zeros(2, dtype=[("a", "f4"), ("b", "i4")]), np.array([None, 1], dtype=object)):
        with pytest.raises(UserError):
            restricted_load(io.BytesIO(pickle.dumps(bad, protocol=4)), numpy_arrays())

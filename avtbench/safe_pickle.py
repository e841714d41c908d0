"""Reading pickles that released files hold, admitting data and nothing else.

A pickle can name any importable callable and have it called while it loads, so `pickle.load` on a
downloaded file runs whatever the file says. `restricted_load` resolves every global the pickle
names through an allow-list instead: a name on the list is replaced by what the list gives (a
class, a function that builds plain data), anything else stops the load with `RefusedPickle`
before it is called, naming the file and the global. Nothing outside the list is ever imported.

`numpy_arrays()` admits numpy arrays and scalars of plain numeric dtypes (bool, int, uint, float,
complex) and the builtin containers; numpy's own `dtype` and `ndarray` never reach the pickle (data-
only stand-ins take their arguments and are swapped for real arrays when the load ends). A caller
extends the list for its own format (`AllowList.with_`).
"""
from __future__ import annotations

import builtins
import collections
import pickle
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Callable, Mapping

from avtbench.errors import UserError


class RefusedPickle(UserError):
    """A pickle that names a global outside the allow-list (it would have run code to load)."""


@dataclass(frozen=True)
class AllowList:
    """(module, name) -> what the unpickler uses in its place (the class itself, or a stand-in that
    builds plain data from the pickled arguments)."""

    names: Mapping[tuple[str, str], Any] = field(default_factory=dict)

    def with_(self, extra: Mapping[tuple[str, str], Any]) -> AllowList:
        return AllowList({**self.names, **extra})

    def resolve(self, module: str, name: str) -> Any | None:
        return self.names.get((module, name))


def _numpy_names() -> dict[tuple[str, str], Any]:
    """numpy's pickle forms, each through a stand-in that builds plain numeric data only: numpy's own
    `dtype` and `ndarray` are never handed to the pickle, since a dtype rebuilt from pickled state can
    hide an object field and make numpy read the file's bytes as pointers."""
    names: dict[tuple[str, str], Any] = {("numpy", "ndarray"): _NDARRAY, ("numpy", "dtype"): _PickledDType}
    for module in ("numpy.core.multiarray", "numpy._core.multiarray"):  # pickles name either, by numpy version
        names[(module, "_reconstruct")] = _PickledArray
        names[(module, "scalar")] = _scalar
    for module in ("numpy.core.numeric", "numpy._core.numeric"):  # protocol 5 writes arrays so
        names[(module, "_frombuffer")] = _frombuffer
    return names


_NDARRAY = ("numpy", "ndarray")
"""What the pickle's `numpy.ndarray` stands for: a marker `_reconstruct` expects, never called."""
_PLAIN_KINDS = "biufc"
"""bool, signed and unsigned int, float, complex: the only dtype kinds admitted."""


class _PickledDType:
    """numpy's pickled `dtype(spec, align, copy)` + its state: the spec and byte order kept as data."""

    def __init__(self, spec: Any = None, align: Any = False, copy: Any = True) -> None:
        self.spec, self.order, self.structured = spec, "=", False

    def __setstate__(self, state: Any) -> None:
        if not isinstance(state, tuple) or len(state) < 2:
            raise pickle.UnpicklingError("a dtype state of an unknown form")
        self.order = state[1]
        self.structured = any(part is not None for part in state[2:5])  # subarray, names, fields

    def plain(self) -> Any:
        """The numpy dtype it describes, when that is a plain numeric one; UnpicklingError otherwise."""
        import numpy as np

        if self.structured or not isinstance(self.spec, str) or self.order not in ("<", ">", "|", "="):
            raise pickle.UnpicklingError(f"a dtype other than a plain number ({self.spec!r:.40})")
        dtype = np.dtype(self.spec)
        if dtype.kind not in _PLAIN_KINDS or dtype.fields is not None or dtype.subdtype is not None:
            raise pickle.UnpicklingError(f"a dtype other than a plain number ({self.spec!r:.40})")
        return dtype.newbyteorder(self.order) if self.order in "<>" else dtype


class _PickledArray:
    """numpy's `_reconstruct(ndarray, shape, typecode)` + `__setstate__`: the array is made from the
    state's bytes and plain dtype alone, and swapped in for this stand-in when the load ends."""

    def __init__(self, cls: Any = None, shape: Any = (0,), typecode: Any = b"b") -> None:
        if cls is not _NDARRAY:
            raise pickle.UnpicklingError("_reconstruct of something other than numpy.ndarray")
        self.array: Any = None

    def __setstate__(self, state: Any) -> None:
        if not isinstance(state, tuple) or len(state) != 5:
            raise pickle.UnpicklingError("an array state of an unknown form")
        _, shape, dtype, fortran, data = state
        self.array = _from_bytes(data, dtype, shape, "F" if fortran else "C")


def _plain(dtype: Any) -> Any:
    if not isinstance(dtype, _PickledDType):
        raise pickle.UnpicklingError("an array whose dtype is not a pickled numpy dtype")
    return dtype.plain()


def _from_bytes(data: Any, dtype: Any, shape: Any, order: str) -> Any:
    import numpy as np

    if not isinstance(data, (bytes, bytearray, memoryview, pickle.PickleBuffer)):
        raise pickle.UnpicklingError("array data that is not bytes")
    if not isinstance(shape, tuple) or not all(isinstance(n, int) and n >= 0 for n in shape):
        raise pickle.UnpicklingError("an array shape that is not a tuple of sizes")
    return np.frombuffer(bytes(data), dtype=_plain(dtype)).reshape(shape, order=order).copy()


def _frombuffer(buffer: Any, dtype: Any, shape: Any, order: Any) -> Any:
    """numpy's protocol-5 array form, `_frombuffer(buffer, dtype, shape, order)`."""
    if order not in ("C", "F"):
        raise pickle.UnpicklingError(f"array order {order!r:.20}")
    return _from_bytes(buffer, dtype, shape, order)


def _scalar(dtype: Any, data: Any = b"") -> Any:
    """numpy's pickled scalar, `scalar(dtype, bytes)`, rebuilt from its bytes."""
    import numpy as np

    plain = _plain(dtype)
    if not isinstance(data, bytes) or len(data) not in (0, plain.itemsize):
        raise pickle.UnpicklingError("scalar data of the wrong size")
    return np.frombuffer(data, dtype=plain, count=1)[0] if data else np.zeros((), dtype=plain)[()]


def _bytearray(source: Any = b"", *args: Any) -> bytearray:
    """bytearray from bytes only (`bytearray(n)` would allocate n zeros the file asks for)."""
    if not isinstance(source, (bytes, bytearray, str)) or (isinstance(source, str) and args not in ((), ("latin1",), ("latin-1",))):
        raise pickle.UnpicklingError("bytearray from other than bytes")
    return bytearray(source, *args) if isinstance(source, str) else bytearray(source)


_CONTAINERS: dict[tuple[str, str], Any] = {("builtins", name): getattr(builtins, name) for name in
                                           ("list", "dict", "tuple", "set", "frozenset", "complex", "slice")}
_CONTAINERS[("builtins", "bytearray")] = _bytearray
_CONTAINERS[("collections", "OrderedDict")] = collections.OrderedDict


def _swap_stand_ins(value: Any, depth: int = 0) -> Any:
    """`value` with every `_PickledArray` replaced by its array (and no `_PickledDType` left over)."""
    if depth > 200:
        raise pickle.UnpicklingError("data nested more than 200 deep")
    if isinstance(value, _PickledArray):
        if value.array is None:
            raise pickle.UnpicklingError("an array without its state")
        return value.array
    if isinstance(value, _PickledDType):
        return value.plain()
    if isinstance(value, (list, tuple)):
        swapped = [_swap_stand_ins(v, depth + 1) for v in value]
        return type(value)(swapped) if isinstance(value, list) or type(value) is tuple else value
    if isinstance(value, dict):
        for key in list(value):
            value[key] = _swap_stand_ins(value[key], depth + 1)
    return value


def _latin1_bytes(text: str, encoding: str = "latin1") -> bytes:
    """Protocol 2 writes bytes as `_codecs.encode(str, "latin1")`: the same, for text only."""
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise pickle.UnpicklingError("_codecs.encode with other than text and latin1")
    return text.encode("latin1")


_CONTAINERS[("_codecs", "encode")] = _latin1_bytes


def numpy_arrays() -> AllowList:
    """Numpy arrays, dtypes and scalars, and the builtin containers."""
    return AllowList({**_CONTAINERS, **_numpy_names()})


class _Restricted(pickle.Unpickler):
    def __init__(self, file: IO[bytes], allow: AllowList, source: str,
                 persistent_load: Callable[[Any], Any] | None = None) -> None:
        super().__init__(file)
        self.allow, self.source = allow, source
        if persistent_load is not None:
            self.persistent_load = persistent_load  # type: ignore[method-assign]

    def find_class(self, module: str, name: str) -> Any:
        found = self.allow.resolve(module, name)
        if found is None:
            raise RefusedPickle(f"{self.source} holds a pickled {module}.{name}, which is not data this loader admits "
                                "(a pickle can run code while it loads); it was not loaded: use the released file, "
                                "or convert it with the tool that wrote it")
        return found


def restricted_load(file: IO[bytes] | str | Path, allow: AllowList, source: str = "",
                    persistent_load: Callable[[Any], Any] | None = None) -> Any:
    """Unpickle `file` admitting only the globals of `allow`; `RefusedPickle` (one line naming `source`
    and the global) for any other, raised before that global is called. A pickle that is damaged
    (truncated, not a pickle) is a `UserError` naming `source` too."""
    if isinstance(file, (str, Path)):
        source = source or str(file)
        with open(file, "rb") as handle:
            return restricted_load(handle, allow, source, persistent_load)
    source = source or getattr(file, "name", "a pickle")
    try:
        return _swap_stand_ins(_Restricted(file, allow, source, persistent_load).load())
    except RefusedPickle:
        raise
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError, KeyError,
            MemoryError, OverflowError, RuntimeError, RecursionError) as exc:
        raise UserError(f"{source} is not a readable pickle ({type(exc).__name__}: {exc}); "
                        "the file is damaged or of another format") from None

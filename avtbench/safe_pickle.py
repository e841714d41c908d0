"""Reading pickles that released files hold, admitting data and nothing else.

A pickle can name any importable callable and have it called while it loads, so `pickle.load` on a
downloaded file runs whatever the file says. `restricted_load` resolves every global the pickle
names through an allow-list instead: a name on the list is replaced by what the list gives (a
class, a function that builds plain data), anything else stops the load with `RefusedPickle`
before it is called, naming the file and the global. Nothing outside the list is ever imported.

`numpy_arrays()` admits numpy arrays and scalars (what `np.save`-free feature pickles hold) and the
builtin containers; a caller extends it for its own format (`AllowList.with_`).
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
    import numpy as np

    try:
        from numpy._core.multiarray import _reconstruct  # numpy >= 2
    except ImportError:  # numpy 1.x
        from numpy.core.multiarray import _reconstruct
    names: dict[tuple[str, str], Any] = {("numpy", "ndarray"): np.ndarray, ("numpy", "dtype"): np.dtype}
    for module in ("numpy.core.multiarray", "numpy._core.multiarray"):  # pickles name either, by numpy version
        names[(module, "_reconstruct")] = _reconstruct
        names[(module, "scalar")] = _scalar
    for module in ("numpy.core.numeric", "numpy._core.numeric"):  # protocol 5 writes arrays so
        names[(module, "_frombuffer")] = _frombuffer
    for kind in dir(np.dtypes):
        if kind.endswith("DType"):
            names[("numpy.dtypes", kind)] = getattr(np.dtypes, kind)
    return names


def _frombuffer(buffer: Any, dtype: Any, shape: tuple[int, ...], order: str) -> Any:
    """numpy's protocol-5 array form, rebuilt from its buffer."""
    import numpy as np

    if order not in ("C", "F"):
        raise pickle.UnpicklingError(f"array order {order!r}")
    return np.frombuffer(buffer, dtype=dtype).reshape(shape, order=order).copy()


def _scalar(dtype: Any, data: bytes = b"") -> Any:
    """numpy's pickled scalar, `scalar(dtype, bytes)`, rebuilt from its bytes."""
    import numpy as np

    return np.frombuffer(data, dtype=dtype, count=1)[0] if data else np.zeros((), dtype=dtype)[()]


_CONTAINERS = {("builtins", name): getattr(builtins, name) for name in
               ("list", "dict", "tuple", "set", "frozenset", "bytearray", "complex", "slice", "range")}
_CONTAINERS[("collections", "OrderedDict")] = collections.OrderedDict


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
        return _Restricted(file, allow, source, persistent_load).load()
    except RefusedPickle:
        raise
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError, KeyError) as exc:
        raise UserError(f"{source} is not a readable pickle ({type(exc).__name__}: {exc}); "
                        "the file is damaged or of another format") from None

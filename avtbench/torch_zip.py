"""Reading a file `torch.save` wrote, admitting tensors, containers and what the caller allows, nothing else.

`torch.save` writes a zip archive whose one top folder (named after the file at save time, not after
the file as it is called now) holds `data.pkl`, the pickled object, and `data/<key>`, the raw bytes
of each storage. The pickle names a storage by a persistent id `("storage", <storage type>, key,
location, numel)` and rebuilds each tensor with `torch._utils._rebuild_tensor_v2(storage, offset,
size, stride, requires_grad, backward_hooks[, metadata])` (torch/serialization.py, `_save` and
`_load`). `torch_zip_load` unpickles `data.pkl` through `avtbench.safe_pickle.restricted_load`
admitting exactly those: the storage types of the plain dtypes, that one rebuild function (done here
as a strided view of the storage read from the archive), `collections.OrderedDict`, the builtin
containers, and whatever the caller's allow-list admits besides. Any other global is refused, one
line naming the file and the global, before it is called; storages are read on the CPU whatever
device they were saved from. Pickles written at protocol 2 (torch.save's default) name Python's
builtins by their Python 2 names (`__builtin__.dict`), which are admitted as the builtins are.
"""
from __future__ import annotations

import _compat_pickle
import pickle
import sys
import zipfile
from pathlib import Path
from typing import Any

from avtbench.errors import UserError
from avtbench.safe_pickle import AllowList, numpy_arrays, restricted_load

STORAGE_DTYPES = {
    "FloatStorage": "float32", "DoubleStorage": "float64", "HalfStorage": "float16", "BFloat16Storage": "bfloat16",
    "LongStorage": "int64", "IntStorage": "int32", "ShortStorage": "int16", "CharStorage": "int8",
    "ByteStorage": "uint8", "BoolStorage": "bool",
}
"""The storage types a tensor of a plain dtype is saved with (`torch.<name>`), and their dtypes."""


class _StorageType:
    """What the pickle's `torch.FloatStorage` (say) stands for here: only its dtype."""

    def __init__(self, name: str, dtype: str) -> None:
        self.name, self.dtype = name, dtype

    def __repr__(self) -> str:
        return f"torch.{self.name}"


class _Storage:
    """A storage read from the archive: a flat tensor of its dtype."""

    def __init__(self, flat: Any) -> None:
        self.flat = flat


def _rebuild_tensor(storage: Any, offset: int, size: Any, stride: Any, requires_grad: Any = False,
                    backward_hooks: Any = None, metadata: Any = None) -> Any:
    """`torch._utils._rebuild_tensor_v2` for a storage of this archive: the strided view it describes."""
    if not isinstance(storage, _Storage):
        raise pickle.UnpicklingError("a tensor rebuilt from something that is not one of the file's storages")
    if metadata:
        raise pickle.UnpicklingError(f"a tensor with metadata {metadata!r} (conjugate or negative views)")
    size, stride, offset = tuple(int(s) for s in size), tuple(int(s) for s in stride), int(offset)
    if len(size) != len(stride) or offset < 0 or min(size + stride, default=0) < 0:
        raise pickle.UnpicklingError(f"a tensor of size {size}, stride {stride} and offset {offset}")
    last = offset + sum((n - 1) * s for n, s in zip(size, stride)) if all(size) else offset - 1
    if last >= storage.flat.numel():
        raise pickle.UnpicklingError(f"a tensor of size {size} past the end of its storage of {storage.flat.numel()}")
    return storage.flat.as_strided(size, stride, offset)


def _torch_names() -> dict[tuple[str, str], Any]:
    names: dict[tuple[str, str], Any] = {("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor}
    for name, dtype in STORAGE_DTYPES.items():
        names[("torch", name)] = _StorageType(name, dtype)
    return names


def _python2_aliases(names: dict[tuple[str, str], Any]) -> dict[tuple[str, str], Any]:
    """The Python 2 names (`__builtin__.long` for `builtins.int`) under which a protocol-2 pickle names an admitted builtin."""
    aliases = {}
    for (module, name), value in names.items():
        if (module, name) in _compat_pickle.REVERSE_NAME_MAPPING:
            aliases[_compat_pickle.REVERSE_NAME_MAPPING[(module, name)]] = value
        elif module in _compat_pickle.REVERSE_IMPORT_MAPPING:
            aliases[(_compat_pickle.REVERSE_IMPORT_MAPPING[module], name)] = value
    return aliases


def torch_zip_load(path: Path | str, allow: AllowList | None = None, source: str = "") -> Any:
    """The object a `torch.save` zip file at `path` holds, its tensors on the CPU, unpickled admitting only
    tensors, numpy-free containers and `allow`'s globals (`RefusedPickle`, one line naming `source` and
    the global, for any other). A file that is no such archive, or a damaged one, is a one-line `UserError`."""
    import torch

    path = Path(path)
    source = source or str(path)
    names = {**numpy_arrays().names, **(dict(allow.names) if allow else {}), **_torch_names()}
    names = {**_python2_aliases(names), **names}
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        raise UserError(f"{source} is not a torch.save zip file ({type(exc).__name__}: {exc}); "
                        "a file saved by torch before 1.6 or another format is not read") from None
    with archive:
        pickles = [n for n in archive.namelist() if n.endswith("/data.pkl") and n.count("/") == 1]
        if len(pickles) != 1:
            raise UserError(f"{source} holds no single <folder>/data.pkl: it is not a file torch.save wrote")
        folder = pickles[0][: -len("data.pkl")]
        if f"{folder}byteorder" in archive.namelist() and archive.read(f"{folder}byteorder").decode() != sys.byteorder:
            raise UserError(f"{source} was saved on a machine of the other byte order; it is not read here")
        storages: dict[str, _Storage] = {}

        def persistent_load(pid: Any) -> _Storage:
            if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage" and isinstance(pid[1], _StorageType)):
                raise pickle.UnpicklingError(f"a persistent id {pid!r:.80} that is no storage of a plain dtype")
            _, kind, key, _location, numel = pid
            if key not in storages:
                dtype = getattr(torch, kind.dtype)
                record = f"{folder}data/{key}"
                try:
                    raw = archive.read(record)
                except KeyError:
                    raise pickle.UnpicklingError(f"no storage record {record}") from None
                itemsize = torch.empty((), dtype=dtype).element_size()
                if len(raw) != int(numel) * itemsize:
                    raise pickle.UnpicklingError(f"storage {record} holds {len(raw)} bytes, not {numel} x {itemsize}")
                flat = torch.frombuffer(bytearray(raw), dtype=dtype) if raw else torch.empty(0, dtype=dtype)
                storages[key] = _Storage(flat)
            return storages[key]

        with archive.open(pickles[0]) as handle:
            return restricted_load(handle, AllowList(names), source, persistent_load=persistent_load)

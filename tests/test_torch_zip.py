"""`torch_zip_load` reads what torch.save wrote (tensors, containers, admitted globals) and refuses the rest."""
from __future__ import annotations

import collections
import os
from pathlib import Path

import pytest
import torch

from avtbench.errors import UserError
from avtbench.safe_pickle import AllowList, RefusedPickle
from avtbench.torch_zip import torch_zip_load

from .conftest import user_error


class RunsCode:
    def __reduce__(self):
        return (os.system, ("touch " + os.environ["TORCH_ZIP_MARK"],))


def test_tensors_of_every_plain_dtype_views_and_containers_come_back(tmp_path: Path) -> None:
    base = torch.arange(24, dtype=torch.float32).reshape(4, 6)
    state = collections.OrderedDict(
        weight=base, view=base[1:, ::2], transposed=base.T, scalar=torch.tensor(2.5), empty=torch.zeros(0, 3),
        half=torch.ones(3, dtype=torch.float16), bf16=torch.ones(2, dtype=torch.bfloat16) * 3,
        ids=torch.arange(5), flags=torch.tensor([True, False]), small=torch.tensor([1, -2], dtype=torch.int8),
        double=torch.randn(3, 2, dtype=torch.float64))
    path = tmp_path / "renamed.pth"  # the archive's folder keeps the name it was saved under
    torch.save({"model": (collections.OrderedDict(), state), "step": 7, "name": "x", "cfg": {"a": [1, 2.0, None]}}, path)
    loaded = torch_zip_load(path)
    assert loaded["step"] == 7 and loaded["cfg"] == {"a": [1, 2.0, None]} and loaded["model"][0] == {}
    for key, tensor in state.items():
        got = loaded["model"][1][key]
        assert got.dtype == tensor.dtype and got.shape == tensor.shape and torch.equal(got, tensor), key
    assert isinstance(loaded["model"][1], collections.OrderedDict) and list(loaded["model"][1]) == list(state)


def test_a_legacy_protocol_2_pickle_naming_python2_builtins_reads(tmp_path: Path) -> None:
    path = tmp_path / "p2.pth"
    torch.save({"types": [int, dict, list], "set": {1, 2}}, path, pickle_protocol=2)
    loaded = torch_zip_load(path, AllowList({("builtins", "int"): int, ("builtins", "dict"): dict, ("builtins", "list"): list}))
    assert loaded == {"types": [int, dict, list], "set": {1, 2}}


def test_anything_else_is_refused_before_it_runs(tmp_path: Path, monkeypatch) -> None:
    mark = tmp_path / "ran"
    monkeypatch.setenv("TORCH_ZIP_MARK", str(mark))
    path = tmp_path / "evil.pth"
    torch.save({"weight": torch.zeros(2), "cfg": RunsCode()}, path)
    with pytest.raises(RefusedPickle) as info:
        torch_zip_load(path)
    assert "evil.pth holds a pickled" in str(info.value) and "system" in str(info.value) and "\n" not in str(info.value)
    assert not mark.exists()
    torch.save({"p": torch.nn.Parameter(torch.zeros(2))}, tmp_path / "param.pth")
    assert "_rebuild_parameter" in user_error(torch_zip_load, tmp_path / "param.pth")


def test_a_file_of_another_format_or_a_damaged_one_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "text.pth").write_text("not a zip")
    assert "is not a torch.save zip file" in user_error(torch_zip_load, tmp_path / "text.pth")
    path = tmp_path / "cut.pth"
    torch.save({"w": torch.zeros(1000)}, path)
    import zipfile
    with zipfile.ZipFile(path) as archive, zipfile.ZipFile(tmp_path / "short.pth", "w") as out:
        for item in archive.infolist():
            data = archive.read(item)
            out.writestr(item, data[:100] if "/data/" in item.filename else data)
    message = user_error(torch_zip_load, tmp_path / "short.pth")
    assert "short.pth is not a readable pickle" in message and "holds 100 bytes" in message
    with pytest.raises(UserError):
        torch_zip_load(tmp_path / "missing.pth")

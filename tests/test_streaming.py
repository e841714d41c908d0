"""Lazy arrays, streamed batches and streaming statistics (plugin API 3's data path)."""
from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest
import torch

from avtbench.api import Clips, UserError
from avtbench.data.loader import LoaderSettings, batch_rows, batches
from avtbench.data.moments import Moments
from avtbench.data.rows import H5Rows, MemoryRows, materialize
from avtbench.hashing import hash_array

FIX = "write the file again"


def test_indexing_a_lazy_array_reads_what_numpy_would_give() -> None:
    data = np.arange(7 * 3 * 2, dtype=np.float32).reshape(7, 3, 2)
    lazy = MemoryRows(data)
    assert lazy.shape == data.shape and len(lazy) == 7 and lazy.ndim == 3
    for key in (3, -1, slice(1, 6, 2), slice(None), np.array([5, 0, 5, 2]), [1, 1], np.arange(7) % 2 == 0, (slice(2, 4), 1),
                (np.array([4, 2]), slice(None), 0)):
        np.testing.assert_array_equal(lazy[key], data[key])
    with pytest.raises(IndexError):
        lazy[np.array([7])]
    view = lazy.take([6, 1, 3]).take([2, 0])
    np.testing.assert_array_equal(np.asarray(view), data[[3, 6]])
    np.testing.assert_array_equal(materialize(lazy), data)


def test_h5_rows_read_only_the_rows_asked_for_in_any_order(tmp_path: Path) -> None:
    data = np.random.default_rng(0).standard_normal((50, 4, 6)).astype(np.float32)
    path = tmp_path / "f.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("x", data=data, chunks=(1, 4, 6))
    lazy = H5Rows(path, "x", FIX)
    np.testing.assert_array_equal(lazy[[9, 3, 9, 40]], data[[9, 3, 9, 40]])
    np.testing.assert_array_equal(lazy[10:13], data[10:13])
    picked = H5Rows(path, "x", FIX, rows=np.array([49, 0, 7]), row_shape=(4, 1, 1, 6))
    assert picked.shape == (3, 4, 1, 1, 6)
    np.testing.assert_array_equal(picked[1:], data[[0, 7]][:, :, None, None, :])


def test_a_nan_met_while_reading_names_the_file_and_its_row(tmp_path: Path) -> None:
    data = np.zeros((20, 3), dtype=np.float32)
    data[13, 1] = np.nan
    path = tmp_path / "audio.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("x", data=data)
    lazy = H5Rows(path, "x", FIX, rows=np.arange(20)[::-1])
    lazy[:5]  # rows 19..15 are fine
    with pytest.raises(UserError, match=r"audio.h5: features contain NaN or inf \(row 13\); write the file again"):
        lazy[5:8]


def test_a_chunk_that_cannot_be_read_is_a_one_line_error(tmp_path: Path) -> None:
    path = tmp_path / "visual.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("x", data=np.ones((400, 64), dtype=np.float32), chunks=(1, 64))
    lazy = H5Rows(path, "x", FIX)
    raw = bytearray(path.read_bytes())
    raw[-20000:] = b"\xff" * 20000  # the last chunks' bytes overwritten
    path.write_bytes(bytes(raw))
    with pytest.raises(UserError) as error:
        for start in range(0, 400, 50):
            lazy[start:start + 50]
    assert str(error.value).startswith(f"{path}: ") and "write the file again" in str(error.value)


def test_batches_come_in_the_order_asked_for_with_their_rows() -> None:
    data = np.arange(10 * 2, dtype=np.float32).reshape(10, 2)
    orders = [np.array([3, 1, 4, 0, 9, 2, 6, 5, 8, 7])]
    got = list(batches({"x": MemoryRows(data)}, batch_rows(orders, 4, min_rows=2), with_rows=True))
    assert [b["rows"].tolist() for b in got] == [[3, 1, 4, 0], [9, 2, 6, 5], [8, 7]]
    for b in got:
        assert torch.equal(b["x"], torch.from_numpy(data[b["rows"].numpy()]))
    assert [len(r) for r in batch_rows(orders, 4, drop_last=True)] == [4, 4]


def test_batches_read_in_worker_processes_give_the_same_batches() -> None:
    data = np.random.default_rng(1).standard_normal((12, 3)).astype(np.float32)
    rows = [np.array([5, 1, 7]), np.array([0, 11]), np.array([2, 3, 4, 6])]
    here = [b["x"] for b in batches({"x": MemoryRows(data)}, rows)]
    there = [b["x"] for b in batches({"x": MemoryRows(data)}, rows, settings=LoaderSettings(workers=1))]
    assert all(torch.equal(a, b) for a, b in zip(here, there)) and len(there) == 3


def test_streaming_moments_equal_the_whole_array_statistics() -> None:
    x = np.random.default_rng(2).standard_normal((1000, 5)) * 3 + 1000.0  # a large mean next to the spread
    moments = Moments()
    for start in range(0, 1000, 64):
        moments.add(x[start:start + 64])
    np.testing.assert_allclose(moments.mean, x.mean(0), rtol=1e-12)
    np.testing.assert_allclose(moments.covariance(), np.cov(x.T, bias=True), rtol=1e-9, atol=1e-9)


def test_a_lazy_array_hashes_as_its_contents() -> None:
    data = np.random.default_rng(3).standard_normal((600, 4)).astype(np.float32)
    assert hash_array(MemoryRows(data)) == hash_array(data)
    assert hash_array(MemoryRows(data).take(np.arange(599))) != hash_array(data)


def test_subset_keeps_lazy_clips_lazy_and_materialized_reads_them() -> None:
    audio = np.arange(8 * 2 * 3, dtype=np.float32).reshape(8, 2, 3)
    clips = Clips(ids=list("abcdefgh"), audio=MemoryRows(audio), labels={"y": MemoryRows(np.arange(8))})
    part = clips.subset([6, 2])
    assert part.is_lazy() and part.ids == ["g", "c"]
    whole = part.materialized()
    assert not whole.is_lazy() and isinstance(whole.audio, np.ndarray)
    np.testing.assert_array_equal(whole.audio, audio[[6, 2]])
    np.testing.assert_array_equal(whole.labels["y"], [6, 2])


def test_loader_workers_default_to_none_on_cpu_and_four_on_cuda_and_reject_words() -> None:
    from avtbench.runner import resolve_loader_workers

    assert resolve_loader_workers("auto", "cpu") == 0 and resolve_loader_workers("auto", "cuda") == 4
    assert resolve_loader_workers("2", "cpu") == 2
    with pytest.raises(UserError, match="--loader-workers 'many': give a number"):
        resolve_loader_workers("many", "cpu")


@pytest.mark.parametrize("chunks", [None, (1, 8, 16)])
def test_rows_are_read_straight_from_the_file_and_a_truncated_file_is_named(tmp_path: Path, chunks) -> None:
    data = np.random.default_rng(4).standard_normal((300, 8, 16)).astype(np.float32)
    path = tmp_path / "f.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("x", data=data, chunks=chunks)
    lazy = H5Rows(path, "x", FIX)
    rows = np.array([299, 0, 17, 17, 150])
    np.testing.assert_array_equal(lazy[rows], data[rows])
    assert lazy._offsets is not None  # the direct path was taken
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(UserError, match=f"^{path}: .*write the file again"):
        lazy[np.arange(250, 300)]


def test_compressed_files_are_read_through_h5py(tmp_path: Path) -> None:
    data = np.random.default_rng(5).standard_normal((40, 3, 4)).astype(np.float32)
    path = tmp_path / "f.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("x", data=data, chunks=(4, 3, 4), compression="gzip")
    lazy = H5Rows(path, "x", FIX)
    np.testing.assert_array_equal(lazy[[39, 2, 2, 10]], data[[39, 2, 2, 10]])
    assert lazy._offsets is None


def test_npy_rows_written_and_read_by_rows_are_an_ordinary_npy(tmp_path: Path) -> None:
    from avtbench.data.npyfile import NpyRows, NpyWriter

    data = np.random.default_rng(6).standard_normal((50, 4, 3)).astype(np.float32)
    with NpyWriter(tmp_path / "d.npy", data.shape) as out:
        out.write(20, data[20:])
        out.write(0, data[:20])
        with pytest.raises(ValueError, match="do not fit"):
            out.write(45, data[:10])
    np.testing.assert_array_equal(np.load(tmp_path / "d.npy"), data)
    rows = NpyRows(tmp_path / "d.npy")
    assert rows.shape == data.shape and rows.dtype == np.float32
    np.testing.assert_array_equal(rows[[49, 3, 3, 0]], data[[49, 3, 3, 0]])
    np.save(tmp_path / "saved.npy", data[:, :, :2])  # one numpy wrote
    np.testing.assert_array_equal(NpyRows(tmp_path / "saved.npy")[7:9], data[7:9, :, :2])


def test_batches_read_ahead_raise_their_errors_here_and_stop_when_left() -> None:
    import threading

    data = np.zeros((40, 2), dtype=np.float32)
    data[33] = np.nan

    class Checked(MemoryRows):
        def read(self, rows):
            block = super().read(rows)
            if np.isnan(block).any():
                raise UserError("f.h5: features contain NaN or inf (row 33); fix it")
            return block

    rows = [np.arange(s, s + 8) for s in range(0, 40, 8)]
    seen = []
    with pytest.raises(UserError, match=r"row 33"):
        for batch in batches({"x": Checked(data)}, rows, settings=LoaderSettings(prefetch=2)):
            seen.append(batch["x"])
    assert len(seen) == 4
    first = next(iter(batches({"x": MemoryRows(data)}, rows * 50, settings=LoaderSettings(prefetch=2))))
    assert first["x"].shape == (8, 2)
    assert not [t for t in threading.enumerate() if t.name == "avtbench-read-ahead"], "the thread stopped"


def test_rows_decoded_from_per_clip_files_are_copied_once_into_an_npy(tmp_path: Path) -> None:
    from avtbench.data.npyfile import NpyRows, decoded_copy
    from avtbench.data.rows import PerClipRows

    data = np.random.default_rng(7).standard_normal((30, 5)).astype(np.float32)
    loads = []
    clips = PerClipRows(lambda row: loads.append(row) or data[row], 30, (5,), np.float32)
    copy = decoded_copy(clips, tmp_path / "copy.npy")
    assert isinstance(copy, NpyRows) and sorted(loads) == list(range(30))
    np.testing.assert_array_equal(copy[[29, 4, 4]], data[[29, 4, 4]])
    assert len(loads) == 30, "reading the copy decodes nothing"
    memory = MemoryRows(data)
    assert decoded_copy(memory, tmp_path / "other.npy") is memory and not (tmp_path / "other.npy").exists()


def test_a_boolean_row_mask_selects_rows_as_numpy_does_and_any_other_shape_is_refused() -> None:
    data = np.arange(24, dtype=np.float32).reshape(6, 4)
    mask = np.array([True, False, True, False, False, True])
    assert np.array_equal(MemoryRows(data)[mask], data[mask])
    with pytest.raises(IndexError, match=r"boolean row mask must have shape \(6,\)"):
        MemoryRows(data)[np.ones((6, 4), dtype=bool)]  # numpy would mask two axes; rows are one

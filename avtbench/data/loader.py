"""Batches of clips streamed from disk through a torch `DataLoader` (plugin API 3's way to pretrain).

A method says which rows make each batch (its own shuffling, so its numbers do not depend on how
the data is stored) and which arrays it wants; `batches` reads each batch in one read per array
(in worker processes when `LoaderSettings.workers` > 0, prefetching ahead), pins it on CUDA and
moves it to the device with a non-blocking copy.

    order = [rng.permutation(len(corpus)) for _ in range(epochs)]
    for batch in batches({"audio": corpus.audio, "visual": corpus.visual}, batch_rows(order, 64), device):
        loss = model(batch["audio"], batch["visual"])

How many workers load is the run's setting (`avtbench run --loader-workers`), not a method's: it
changes speed, never results.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Iterable, Iterator, Mapping, Sequence

import numpy as np


@dataclass
class LoaderSettings:
    """workers: processes reading batches (0: read in the training process; "auto" in the CLI picks
    0 on CPU, where workers only compete with training for cores, and 4 on CUDA).
    prefetch: batches read ahead: by each worker, or, with no workers, by one thread of the training
    process (reading files and decoding audio release the GIL, so reading overlaps the step)."""

    workers: int = 0
    prefetch: int = 2


SETTINGS = LoaderSettings()
"""The settings of this process's runs (the CLI sets them from `--loader-workers`)."""


@dataclass
class LoaderStats:
    """What `batches` has handed out in this process, and how long its consumers waited for batches
    (reading and copying): `wait_s` next to the run's time says whether loading is the bottleneck."""

    batches: int = 0
    wait_s: float = 0.0


STATS = LoaderStats()


def configure(workers: int | None = None, prefetch: int | None = None) -> None:
    if workers is not None:
        SETTINGS.workers = max(0, int(workers))
    if prefetch is not None:
        SETTINGS.prefetch = max(1, int(prefetch))


def batch_rows(orders: Iterable[np.ndarray], batch_size: int, drop_last: bool = False, min_rows: int = 1) -> Iterator[np.ndarray]:
    """Consecutive batches of `batch_size` rows of each order (an epoch's permutation, say); a last
    batch shorter than `min_rows` (or any short one, with drop_last) is left out."""
    for order in orders:
        order = np.asarray(order, dtype=np.int64)
        for start in range(0, len(order), batch_size):
            rows = order[start:start + batch_size]
            if len(rows) < (batch_size if drop_last else min_rows):
                continue
            yield rows


class _RowBatches:
    """A map-style dataset whose index is a whole batch: one read per array and batch."""

    def __init__(self, arrays: Mapping[str, Any], with_rows: bool) -> None:
        self.arrays, self.with_rows = dict(arrays), with_rows

    def __getitem__(self, rows: np.ndarray) -> dict[str, np.ndarray]:
        batch = {name: np.ascontiguousarray(array[rows]) for name, array in self.arrays.items()}
        if self.with_rows:
            batch["rows"] = np.asarray(rows, dtype=np.int64)
        return batch


class _Sampler:
    def __init__(self, batches: Sequence[np.ndarray] | Iterable[np.ndarray]) -> None:
        self.batches = batches

    def __iter__(self) -> Iterator[np.ndarray]:
        return iter(self.batches)


def batches(arrays: Mapping[str, Any], rows: Iterable[np.ndarray], device: str = "cpu",
            settings: LoaderSettings | None = None, with_rows: bool = False) -> Iterator[dict[str, Any]]:
    """Tensors {name: [len(rows), ...]} on `device` for each batch of `rows` (see the module docstring).

    arrays: RowArrays (or numpy arrays, or any [N, ...] indexable), all with the same N.
    with_rows: also hand the batch's row numbers, as "rows" (an int64 tensor), e.g. to look up captions."""
    import torch
    from torch.utils.data import DataLoader

    settings = settings or SETTINGS
    cuda = torch.device(device).type == "cuda"
    workers = settings.workers
    loader = DataLoader(_RowBatches(arrays, with_rows), sampler=_Sampler(rows), batch_size=None, num_workers=workers,
                        prefetch_factor=settings.prefetch if workers else None, pin_memory=cuda,
                        persistent_workers=False, collate_fn=_to_tensors,
                        generator=torch.Generator().manual_seed(0))  # its own: the global RNG stays the method's
    iterator = iter(loader) if workers else _read_ahead(iter(loader), settings.prefetch)
    while True:
        started = time.perf_counter()
        batch = next(iterator, None)
        if batch is None:
            return
        moved = {name: t.to(device, non_blocking=cuda) for name, t in batch.items()}
        STATS.batches, STATS.wait_s = STATS.batches + 1, STATS.wait_s + time.perf_counter() - started
        yield moved


def _to_tensors(batch: dict[str, np.ndarray]) -> dict[str, Any]:
    import torch

    return {name: torch.from_numpy(array) for name, array in batch.items()}


class _Failed:
    def __init__(self, error: BaseException) -> None:
        self.error = error


def _read_ahead(source: Iterator[Any], depth: int) -> Iterator[Any]:
    """The items of `source`, read `depth` ahead by a background thread; its errors are raised here.
    Closing this generator early stops the thread (the queue is drained so that it is not left
    waiting on a full queue)."""
    import queue
    import threading

    items: queue.Queue = queue.Queue(maxsize=max(1, depth))
    stop, done = threading.Event(), object()

    def fill() -> None:
        try:
            for item in source:
                while not stop.is_set():
                    try:
                        items.put(item, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            items.put(done)
        except BaseException as error:  # noqa: B902 - handed to the consumer, which raises it
            items.put(_Failed(error))

    thread = threading.Thread(target=fill, name="avtbench-read-ahead", daemon=True)
    thread.start()
    try:
        while True:
            item = items.get()
            if item is done:
                return
            if isinstance(item, _Failed):
                raise item.error
            yield item
    finally:
        stop.set()
        while thread.is_alive():
            try:
                items.get(timeout=0.1)
            except queue.Empty:
                pass

"""The conformance kit's streaming check: does a method of plugin API 3 read its corpus in bounded batches?

The method pretrains on the tiny world's corpus repeated to `CORPUS_ROWS` rows, behind arrays that
count every read. It fails when one read asks for more than `MAX_ROWS` rows or the whole array is
read into memory (`np.asarray`); once it has read `ENOUGH_ROWS` rows in bounded reads, the
pretraining is stopped there: what it reads at once has been seen, and the check stays quick.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from avtbench.api import Clips
from avtbench.data.rows import MemoryRows, RowArray

MAX_ROWS = 256
"""Most rows an API 3 method may read at once (a batch, or a block of a statistics pass)."""
CORPUS_ROWS = 2 * MAX_ROWS + 88
"""Rows of the check's corpus: more than twice MAX_ROWS, so that reading it whole cannot pass."""
ENOUGH_ROWS = 2 * MAX_ROWS + 1
"""Rows read in bounded reads after which the check has seen enough and stops the pretraining."""


class StreamingViolation(AssertionError):
    """The method read more than MAX_ROWS rows at once, or a whole array."""


class EnoughRead(BaseException):
    """Raised out of a read once ENOUGH_ROWS rows were read: stops the pretraining (a BaseException, so
    that a method's own `except Exception` does not swallow it)."""


@dataclass
class ReadLog:
    reads: int = 0
    rows: int = 0
    largest: int = 0

    def saw(self, name: str, count: int) -> None:
        if count > MAX_ROWS:
            raise StreamingViolation(f"read {count} rows of {name} at once (at most {MAX_ROWS}: read the corpus in "
                                     "batches, see 'Streaming' in avtbench.api)")
        self.reads, self.rows, self.largest = self.reads + 1, self.rows + count, max(self.largest, count)
        if self.rows >= ENOUGH_ROWS:
            raise EnoughRead()

    def summary(self) -> str:
        return f"{self.rows} rows in {self.reads} reads, at most {self.largest} at once (limit {MAX_ROWS})"


class CountingRows(RowArray):
    """A RowArray that tells `log` about every read and refuses to be read whole."""

    def __init__(self, base: Any, name: str, log: ReadLog) -> None:
        self.base = base if isinstance(base, RowArray) else MemoryRows(np.asarray(base))
        self.name, self.log = name, log
        self.shape, self.dtype = self.base.shape, self.base.dtype

    def read(self, rows: np.ndarray) -> np.ndarray:
        self.log.saw(self.name, len(rows))
        return self.base.read(rows)

    def take(self, rows: np.ndarray | list[int]) -> RowArray:
        return CountingRows(self.base.take(rows), self.name, self.log)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        raise StreamingViolation(f"read all of {self.name} into memory (np.asarray or the like); read it in batches "
                                 "(see 'Streaming' in avtbench.api)")


def counting_corpus(corpus: Clips, log: ReadLog) -> Clips:
    """`corpus` repeated to CORPUS_ROWS clips (ids made unique), every array behind a CountingRows."""
    rows = np.resize(np.arange(len(corpus)), CORPUS_ROWS)
    big = corpus.subset(rows)
    big.ids = [f"{clip}~{i // len(corpus)}" if i >= len(corpus) else clip for i, clip in enumerate(big.ids)]
    wrap = lambda name, array: None if array is None else CountingRows(array, name, log)  # noqa: E731
    big.audio, big.visual = wrap("audio", big.audio), wrap("visual", big.visual)
    big.labels = {key: wrap(f"labels[{key!r}]", value) for key, value in big.labels.items()}
    return big

"""How cells are executed. Serial for now; a Ray or Slurm executor would offer the same `map`."""
from __future__ import annotations

from typing import Callable, Iterable, Iterator, TypeVar

A = TypeVar("A")
R = TypeVar("R")


class SerialExecutor:
    def map(self, fn: Callable[[A], R], items: Iterable[A]) -> Iterator[R]:
        for item in items:
            yield fn(item)

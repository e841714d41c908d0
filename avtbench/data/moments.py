"""Mean and covariance accumulated batch by batch: statistics over a whole corpus in one streaming pass."""
from __future__ import annotations

import numpy as np


class Moments:
    """Running count, sum and sum of outer products of row vectors (float64), for `mean` and
    `covariance` of everything `add` saw. Memory: D x D, whatever the number of rows.

    Sums are taken around the first batch's mean, so that the covariance keeps its precision when the
    mean is large next to the spread."""

    def __init__(self) -> None:
        self.count = 0
        self.shift: np.ndarray | None = None
        self.total: np.ndarray | None = None
        self.outer: np.ndarray | None = None

    def add(self, rows: np.ndarray) -> None:
        x = np.asarray(rows, dtype=np.float64).reshape(len(rows), -1)
        if len(x) == 0:
            return
        if self.total is None:
            self.shift = x.mean(axis=0)
            self.total, self.outer = np.zeros(x.shape[1]), np.zeros((x.shape[1], x.shape[1]))
        x = x - self.shift
        self.count += len(x)
        self.total += x.sum(axis=0)
        self.outer += x.T @ x

    @property
    def mean(self) -> np.ndarray:
        self._require()
        return self.shift + self.total / self.count

    def covariance(self) -> np.ndarray:
        """The covariance of the rows, normalised by the count (the population covariance)."""
        self._require()
        centre = self.total / self.count
        return self.outer / self.count - np.outer(centre, centre)

    def _require(self) -> None:
        if self.total is None or self.count == 0:
            raise ValueError("no rows were added")

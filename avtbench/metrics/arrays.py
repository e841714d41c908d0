"""Input checks shared by the metric functions: each bad array is a ValueError naming the fix."""
from __future__ import annotations

import numpy as np


def as_binary(values: np.ndarray, name: str, fix: str = "threshold probabilities first, e.g. threshold(probs, 0.5)") -> np.ndarray:
    """`values` as int64 when it holds only 0 and 1."""
    arr = np.asarray(values)
    if not np.isin(arr, (0, 1)).all():
        raise ValueError(f"{name} must contain only 0/1 values; {fix}")
    return arr.astype(np.int64)

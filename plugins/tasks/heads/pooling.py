"""One vector per clip: the mean of its step embeddings, L2-normalized (retrieval and zero-shot compare these)."""
from __future__ import annotations

import numpy as np


def pooled(embeddings: np.ndarray) -> np.ndarray:
    """[N, T, D] -> [N, D] mean over steps, L2-normalized."""
    vectors = embeddings.mean(axis=1)
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)

"""Cross-modal retrieval metrics from a query-by-gallery similarity matrix.

Ground truth is either one gallery index per query (``[Q]`` ints) or a boolean
relevance matrix (``[Q, G]``) when a query has several relevant items (e.g.
the five captions of a Clotho clip). Higher similarity ranks first.

Ties are broken pessimistically: an irrelevant item scoring the same as a
relevant one is ranked ahead of it. A degenerate model that gives every item
the same score therefore gets the worst rank rather than a perfect R@1; the
vsepp-style reference code (``np.argsort(scores)[::-1]``) instead orders ties
by descending gallery index, which depends on the gallery order.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np


def ranks(sim: np.ndarray, gt_index: np.ndarray) -> np.ndarray:
    """1-based rank of each query: the best rank reached by any of its relevant items."""
    scores, relevant = _validate(sim, gt_index)
    best = np.where(relevant, scores, -np.inf).max(axis=1)
    ahead = (scores >= best[:, None]) & ~relevant
    return 1 + ahead.sum(axis=1)


def recall_at_k(sim: np.ndarray, gt_index: np.ndarray, ks: Sequence[int] = (1, 5, 10)) -> dict[int, float]:
    """Percentage of queries with a relevant item within the top ``k``, for each ``k`` in ``ks``."""
    bad = [k for k in ks if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1]
    if bad or len(ks) == 0:
        raise ValueError(f"ks must be a non-empty sequence of positive ints, got {list(ks)!r}")
    query_ranks = ranks(sim, gt_index)
    return {int(k): float(100.0 * np.mean(query_ranks <= k)) for k in ks}


def median_rank(sim: np.ndarray, gt_index: np.ndarray) -> float:
    """Median of the 1-based query ranks (may end in .5 for an even number of queries).

    The vsepp reference floors the median of the 0-based ranks before adding
    1; CMG's retrieval code, like this function, does not.
    """
    return float(np.median(ranks(sim, gt_index)))


def median_rank_lower(sim: np.ndarray, gt_index: np.ndarray) -> float:
    """The lower median of the 1-based query ranks: for an even number of queries the smaller of the two
    middle ranks, never a .5. This is what VIP-ANT reports (``torch.Tensor.median`` of its 0-based ranks,
    plus 1; torch returns the lower middle value). Ranks are those of ``ranks`` (ties pessimistic);
    VIP-ANT's own ranks order tied scores by ``argsort``, which differs only where scores tie.
    """
    query_ranks = np.sort(ranks(sim, gt_index))
    return float(query_ranks[(len(query_ranks) - 1) // 2])


def mean_rank(sim: np.ndarray, gt_index: np.ndarray) -> float:
    """Mean of the 1-based query ranks."""
    return float(np.mean(ranks(sim, gt_index)))


def mean_average_precision(sim: np.ndarray, gt_index: np.ndarray) -> float:
    """Mean over queries of average precision over the full gallery ranking, in percent.

    AP of a query = mean over its relevant items of (relevant items ranked at
    or above it) / (its rank), with the same pessimistic tie rule as ``ranks``.
    With a single relevant item AP equals 1 / rank.
    """
    scores, relevant = _validate(sim, gt_index)
    return float(100.0 * np.mean([_average_precision(s, r) for s, r in zip(scores, relevant)]))


def _average_precision(scores: np.ndarray, relevant: np.ndarray) -> float:
    hits = np.sort(scores[relevant])[::-1]
    misses = np.sort(scores[~relevant])
    misses_ahead = len(misses) - np.searchsorted(misses, hits, side="left")
    position = np.arange(1, len(hits) + 1)
    return float(np.mean(position / (position + misses_ahead)))


def _validate(sim: np.ndarray, gt_index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    scores = np.asarray(sim, dtype=np.float64)
    if scores.ndim != 2 or 0 in scores.shape:
        raise ValueError(f"sim must be a non-empty 2-D [queries, gallery] matrix, got shape {scores.shape}")
    if not np.isfinite(scores).all():
        raise ValueError("sim contains NaN or infinite values; pass finite similarities")
    relevant = _relevance(np.asarray(gt_index), scores.shape)
    if not relevant.any(axis=1).all():
        missing = np.flatnonzero(~relevant.any(axis=1))[:5].tolist()
        raise ValueError(f"queries {missing} have no relevant gallery item; mark at least one per query or drop them")
    return scores, relevant


def _relevance(gt: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    n_queries, n_gallery = shape
    if gt.dtype == bool:
        if gt.shape != shape:
            raise ValueError(
                f"relevance matrix has shape {gt.shape} but sim has {shape}; pass a bool [queries, gallery] matrix"
            )
        return gt
    if gt.ndim != 1 or gt.shape[0] != n_queries or not np.issubdtype(gt.dtype, np.integer):
        raise ValueError(
            f"gt_index must be ints of shape ({n_queries},) or a bool matrix {shape}, got {gt.dtype} {gt.shape}"
        )
    if ((gt < 0) | (gt >= n_gallery)).any():
        raise ValueError(f"gt_index values must lie in [0, {n_gallery}); fix the out-of-range gallery indices")
    relevant = np.zeros(shape, dtype=bool)
    relevant[np.arange(n_queries), gt] = True
    return relevant

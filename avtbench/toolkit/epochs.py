"""Per-epoch statistics in what `Method.pretrain` returns: `epoch<e>.<key>`, one number per epoch and key.

A pretraining hands back a flat mapping of numbers (kept in the checkpoint's `meta.json` and in every
cell's record as `pretrain.stats`). Its training curve goes into the same mapping, one entry per epoch
(counted from 1) and statistic: `epoch3.loss`. `epoch_stats` writes them from a method's history;
`read_epoch_stats` gives the curves back (the report draws them). A statistic that exists for some
epochs only (a second stage's loss, say) is written for those epochs only.
"""
from __future__ import annotations

import math
import re
from typing import Any, Mapping, Sequence

_KEY = re.compile(r"^epoch(?P<epoch>\d+)\.(?P<name>.+)$")


def epoch_stats(history: Sequence[Mapping[str, float]] | Mapping[str, Sequence[float]],
                first_epoch: int = 1) -> dict[str, float]:
    """`{"epoch<e>.<key>": value}` from a history given either as one mapping of means per epoch (in order)
    or as one list of values per key (each list's item i is epoch `first_epoch + i`). Non-finite values are
    left out (a record holds finite numbers only)."""
    rows: list[tuple[int, str, Any]] = []
    if isinstance(history, Mapping):
        rows = [(first_epoch + i, key, value) for key, values in history.items() for i, value in enumerate(values)]
    else:
        rows = [(first_epoch + i, key, value) for i, means in enumerate(history) for key, value in means.items()]
    return {f"epoch{epoch}.{key}": float(value) for epoch, key, value in rows
            if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(float(value))}


def read_epoch_stats(stats: Mapping[str, Any]) -> dict[str, list[tuple[int, float]]]:
    """The curves in `stats`: statistic -> [(epoch, value)] by epoch, statistics in the order first met."""
    curves: dict[str, list[tuple[int, float]]] = {}
    for key, value in stats.items():
        found = _KEY.match(str(key))
        if found is None or isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        curves.setdefault(found["name"], []).append((int(found["epoch"]), float(value)))
    return {name: sorted(points) for name, points in curves.items()}

"""Two-sided paired tests of two rows over their shared seeds, for the tables' significance marks.

`scipy.stats` alone takes longer to import than `avtbench table` may take (0.3 s), and even
`scipy.special` with numpy does, so the t-test runs in plain Python: the t statistic of the differences
and Student's t tail by its finite series for integer degrees of freedom. Its p-value is within 1e-14
of `scipy.stats.ttest_rel`'s (an absolute difference, for up to 1000 seeds); where it lies within
`MARGIN` of the significance level, the p-value is recomputed exactly as scipy computes it (numpy,
`scipy.special.stdtr`), so every mark a table prints is the one `ttest_rel` gives. The Wilcoxon test
imports `scipy.stats`, when asked for.
"""
from __future__ import annotations

import math
import warnings
from typing import Sequence

MARGIN = 1e-9
"""A t-test p-value this close to the level it is compared with is recomputed by scipy's own code."""


def paired_pvalue(a: Sequence[float], b: Sequence[float], test: str, near: float = 0.05) -> float | None:
    """The two-sided p-value of `test` ("ttest" or "wilcoxon") on the pairs (a[i], b[i]), as scipy's
    `ttest_rel` / `wilcoxon` give it (exactly so for a t-test p-value within `MARGIN` of `near`); None when
    undefined."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # degenerate inputs are screened out before; never leak numerical chatter
        try:
            if test == "ttest":
                pvalue = ttest_rel_pvalue(a, b)
                if abs(pvalue - near) < MARGIN:
                    pvalue = scipy_ttest_rel_pvalue(a, b)
            else:
                pvalue = _wilcoxon_pvalue(a, b)
        except ValueError:
            return None
    return pvalue if math.isfinite(pvalue) else None


def ttest_rel_pvalue(a: Sequence[float], b: Sequence[float]) -> float:
    """`scipy.stats.ttest_rel(a, b).pvalue` in plain Python (to 1e-14): t = mean(d) / sqrt(var(d) / n)
    on the differences d (sample variance, ddof 1), then twice Student's t tail beyond |t|, n - 1 degrees of freedom."""
    d = [float(x) - float(y) for x, y in zip(a, b, strict=True)]
    n = len(d)
    if n < 2:
        raise ValueError("a paired t-test needs two pairs or more")
    mean = math.fsum(d) / n
    variance = math.fsum((x - mean) ** 2 for x in d) / (n - 1)
    if variance == 0.0:
        return math.nan if mean == 0.0 else 0.0  # 0 / 0 (undefined), or an infinite t
    return student_t_two_sided(mean / math.sqrt(variance / n), n - 1)


def student_t_two_sided(t: float, df: int) -> float:
    """P(|T| >= |t|) for Student's t with `df` degrees of freedom (a positive integer), by the finite series
    of Abramowitz & Stegun 26.7.3 (odd df) and 26.7.4 (even df) in theta = atan(|t| / sqrt(df))."""
    if math.isnan(t):
        return math.nan
    theta = math.atan(abs(t) / math.sqrt(df))
    sin, cos = math.sin(theta), math.cos(theta)
    term = total = 1.0
    if df % 2 == 0:
        for k in range(1, df // 2):
            term *= cos * cos * (2 * k - 1) / (2 * k)
            total += term
        inside = sin * total
    else:
        for k in range(1, (df - 1) // 2):
            term *= cos * cos * (2 * k) / (2 * k + 1)
            total += term
        inside = 2 / math.pi * (theta + (sin * cos * total if df > 1 else 0.0))
    return max(0.0, 1.0 - inside)


def scipy_ttest_rel_pvalue(a: Sequence[float], b: Sequence[float]) -> float:
    """`scipy.stats.ttest_rel(a, b).pvalue` bit for bit, computed as it does (numpy's mean and variance of the
    differences, `scipy.special.stdtr`) without importing `scipy.stats`."""
    import numpy as np
    from scipy.special import stdtr

    d = np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)
    n = d.shape[0]
    if n < 2:
        raise ValueError("a paired t-test needs two pairs or more")
    mean = np.mean(d)
    variance = np.mean((d - np.mean(d, keepdims=True)) ** 2) * (np.float64(n) / np.float64(n - 1))
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.divide(mean, np.sqrt(variance / n))
    return float(2 * stdtr(np.float64(n - 1), -np.abs(t)))


def _wilcoxon_pvalue(a: Sequence[float], b: Sequence[float]) -> float:
    from scipy import stats

    return float(stats.wilcoxon(a, b).pvalue)

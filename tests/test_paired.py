"""The tables' paired t-test without scipy.stats: the p-values scipy.stats.ttest_rel gives, and the same marks."""
from __future__ import annotations

import subprocess
import sys
import warnings

import numpy as np
import pytest
from scipy import stats

from avtbench import paired
from avtbench.paired import paired_pvalue, scipy_ttest_rel_pvalue, student_t_two_sided, ttest_rel_pvalue


def _samples(count: int, seed: int = 0):
    """Pairs of rows like a table's: 2 to 40 seeds, scores on scales from 1e-3 to 1e3, some rounded to 0.1."""
    rng = np.random.default_rng(seed)
    for i in range(count):
        n = int(rng.integers(2, 41))
        scale = 10 ** rng.uniform(-3, 3)
        a = rng.normal(50, scale, n)
        b = a + rng.normal(rng.uniform(-1.5, 1.5) * scale, scale, n)
        yield ([round(x, 1) for x in a], [round(x, 1) for x in b]) if i % 3 == 0 else (list(a), list(b))


def _scipy(a, b) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(stats.ttest_rel(a, b).pvalue)


def test_the_exact_path_is_scipy_bit_for_bit() -> None:
    for a, b in _samples(2000):
        reference, exact = _scipy(a, b), scipy_ttest_rel_pvalue(a, b)
        assert exact == reference or (np.isnan(exact) and np.isnan(reference)), (a, b)


def test_the_plain_python_path_is_within_1e_14_and_marks_the_same() -> None:
    for a, b in _samples(3000, seed=1):
        reference = _scipy(a, b)
        if np.isnan(reference):
            continue
        assert abs(ttest_rel_pvalue(a, b) - reference) < 1e-14, (a, b)
        assert (paired_pvalue(a, b, "ttest") < 0.05) == (reference < 0.05), (a, b)


@pytest.mark.parametrize("df", [1, 2, 3, 4, 5, 8, 29, 100, 999])
def test_student_t_tails_for_every_parity(df: int) -> None:
    for t in (0.0, 0.3, 1.7, 2.5, 4.0, 12.0, -3.0):
        assert student_t_two_sided(t, df) == pytest.approx(2 * stats.t.sf(abs(t), df), rel=1e-12, abs=1e-14)


def test_a_pvalue_near_the_level_is_scipys_own(monkeypatch: pytest.MonkeyPatch) -> None:
    a, b = [70.0, 75.0, 68.0, 74.0], [72.0, 69.0, 70.0, 73.0]
    monkeypatch.setattr(paired, "MARGIN", 1.0)  # every p-value counts as near
    assert paired_pvalue(a, b, "ttest") == _scipy(a, b)


def test_undefined_and_wilcoxon_as_before() -> None:
    assert paired_pvalue([50.0, 50.0, 50.0], [50.0, 50.0, 50.0], "ttest") is None
    assert paired_pvalue([80.0, 81.0, 82.0], [60.0, 61.5, 59.0], "wilcoxon") == pytest.approx(0.25)


def test_a_ttest_imports_no_scipy_and_no_numpy() -> None:
    probe = ("import sys; from avtbench.paired import paired_pvalue; "
             "p = paired_pvalue([80.0, 81.5, 79.2], [60.0, 61.0, 59.5], 'ttest'); "
             "assert 0 < p < 0.05 and 'scipy' not in sys.modules and 'numpy' not in sys.modules, p")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr

"""The synthetic world has the same arrays on every host: pinned digests of its contents, and the
tiny world generated under other OpenBLAS kernels, thread counts and numpy SIMD levels."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from avtbench.synth import exact
from avtbench.synth.digest import dataset_digests
from avtbench.synth.profiles import EASY, HARD
from avtbench.synth.world import PROFILES, generate_world

TINY = PROFILES["tiny"]
TINY_FEATURES = {
    "easy": {
        "ave": "964051946ed5455f4c5ee69c464b11a1f84e96d4fa310b293a1fecda5ded96d4",
        "avs_s4": "3e38c469ffd5ce4933710effb90c4eff71671a7079859c295e4870820fa01cd6",
        "avvp": "cc95f6f1500ad4533c5b1381352b74173fa5e8aed7f4b3590d5da1c04855375e",
        "corpus": "7dd5109c3582a0133af32de0e35913f60a902e52a1d16fa38e5b0cd9d999863b",
        "retrieval": "d1024d018fa0da01b48184b7e8afdc709d66bedd2fdca52099bb411c0b73eef8",
    },
    "hard": {
        "ave": "e9389a72a64344e4e71674862fbac54627542c5c37bb01b4e1326aacb49c78ff",
        "avs_s4": "2e96cfe228a5528122db79a76a96d31745283295c0df93aac48c4fee0fed087b",
        "avvp": "0678264ebc09bfe410bd80885823974649f293964610fc5d5e937a466e17d576",
        "corpus": "acca98e75ff98fcff904746105bb804fb0be5cb00aec917076adc8c22bd4e233",
        "retrieval": "a9ea260460c892dce736fee790e85fb3d6ee0d900960f055bef8231608d72797",
    },
}
"""Per dataset, the digest of the tiny world's feature-level contents (seed 0) as generator version 6
writes them: HDF5 datasets, .npy arrays and text files, not file bytes (`avtbench.synth.digest`)."""



def _avx512_dispatch_targets() -> str:
    """numpy's AVX-512 dispatch targets (names differ between numpy versions; absent ones are ignored)."""
    try:
        from numpy._core import _multiarray_umath as umath
    except ImportError:  # numpy 1.x
        from numpy.core import _multiarray_umath as umath  # type: ignore[no-redef]
    return ",".join(f for f in getattr(umath, "__cpu_dispatch__", []) if "512" in f or f == "X86_V4")


def _other_kernel() -> str:
    """An OpenBLAS kernel this CPU runs that is not the one OpenBLAS picks for it (x86; ignored elsewhere)."""
    try:
        flags = set(Path("/proc/cpuinfo").read_text().split())
    except OSError:
        flags = set()
    return "Haswell" if "avx512f" in flags else "Sandybridge" if "avx2" in flags else "Nehalem"


HOSTS = {
    "as found": {},
    "another OpenBLAS kernel": {"OPENBLAS_CORETYPE": _other_kernel()},
    "one thread": {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"},
    "an AVX2 host (another kernel, numpy without AVX-512)": {"OPENBLAS_CORETYPE": _other_kernel(),
                                                             "NPY_DISABLE_CPU_FEATURES": _avx512_dispatch_targets()},
}
"""Environments that change the arithmetic a host does: OpenBLAS's CPU kernel and thread count, and
the SIMD level numpy dispatches to (on a CPU without AVX-512 the last is the first again)."""

_CHILD = """
import json, sys, tempfile
from pathlib import Path
from avtbench.synth.digest import dataset_digests
from avtbench.synth.profiles import EASY, HARD
from avtbench.synth.world import PROFILES, generate_world
raw = sys.argv[1] == "raw"
out = {}
for name, knobs in (("easy", EASY), ("hard", HARD)):
    with tempfile.TemporaryDirectory() as d:
        generate_world(Path(d), PROFILES["tiny"], 0, raw_level=raw, knobs=knobs)
        out[name] = dataset_digests(Path(d), raw_level=raw)
print(json.dumps(out))
"""


def _digests_under(env: dict[str, str], raw_level: bool) -> subprocess.Popen:
    clean = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "NPY_DISABLE_CPU_FEATURES")}
    clean.update({"OPENBLAS_NUM_THREADS": "2", "OMP_NUM_THREADS": "2"}, **env)
    return subprocess.Popen([sys.executable, "-c", _CHILD, "raw" if raw_level else "features"], env=clean,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _across_hosts(raw_level: bool) -> dict[str, dict]:
    results = {}
    names = list(HOSTS)
    for pair in (names[:2], names[2:]):  # two at a time on two cores
        running = {name: _digests_under(HOSTS[name], raw_level) for name in pair}
        for name, proc in running.items():
            out, err = proc.communicate(timeout=300)
            assert proc.returncode == 0, err
            results[name] = json.loads(out)
    return results


@pytest.mark.parametrize("knobs", ["easy", "hard"])
def test_the_tiny_worlds_arrays_are_pinned(tmp_path: Path, knobs: str) -> None:
    generate_world(tmp_path, TINY, 0, raw_level=False, knobs=EASY if knobs == "easy" else HARD)
    assert dataset_digests(tmp_path, raw_level=False) == TINY_FEATURES[knobs]


def test_the_same_features_under_other_kernels_threads_and_simd_levels() -> None:
    results = _across_hosts(raw_level=False)
    for name, digests in results.items():
        assert digests == TINY_FEATURES, f"the tiny world's features differ under {name}: {HOSTS[name]}"


@pytest.mark.slow
def test_the_same_raw_level_under_other_kernels_threads_and_simd_levels() -> None:
    """Waveforms, frames and masks too: their products and sums are exact (`exact.py`); numpy's FFT and
    float32 log / cos gave the same samples and pixels on AVX2 and AVX-512 (not without AVX2)."""
    results = _across_hosts(raw_level=True)
    first = results.pop("as found")
    for name, digests in results.items():
        assert digests == first, f"the tiny world's raw level differs under {name}: {HOSTS[name]}"


def test_products_are_exact_in_any_summation_order() -> None:
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((50, 64)) * 3, rng.standard_normal((64, 40)) / 8
    product = exact.matmul(x, w)
    bits = exact.product_bits(x, w)
    xq, wq = exact.fixed(x, bits), exact.fixed(w, bits)
    backwards = np.zeros_like(product)
    for k in reversed(range(64)):  # another order, one term at a time
        backwards += xq[:, k, None] * wq[None, k, :]
    np.testing.assert_array_equal(product, backwards)
    assert np.abs(product - x @ w).max() < 1e-4  # and still the product


def test_exp_and_tanh_match_numpy_to_float64_accuracy() -> None:
    x = np.linspace(-30, 30, 20001)
    np.testing.assert_allclose(exact.exp(x), np.exp(x), rtol=4e-15)
    np.testing.assert_allclose(exact.tanh(x), np.tanh(x), rtol=1e-14, atol=1e-16)
    assert exact.tanh(np.array([0.0]))[0] == 0.0 and exact.exp(np.array([0.0]))[0] == 1.0

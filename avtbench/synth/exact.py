"""Host-independent arithmetic for the synthetic world: the same numbers on every x86 CPU, BLAS
kernel and thread count.

Why: a float32 matrix product through OpenBLAS sums in an order its CPU kernel and thread count
pick (SkylakeX, Haswell, Zen kernels differ), and numpy's `exp` / `tanh` take SIMD paths chosen at
run time (AVX2, AVX-512) that round differently. Generator version 5 used both, so the world's
feature arrays differed from host to host (`OPENBLAS_CORETYPE=Haswell` changed 174 of the tiny
world's feature files on an AVX-512 AMD EPYC).

What we chose, and why (over "float64 then round to float32", which only makes a difference rare):
- Products are exact. Both factors are rounded to a fixed-point grid (multiples of 2^-b) small
  enough that every product and every partial sum of the dot product is an integer multiple of
  2^-2b below 2^53 · 2^-2b: float64 represents each exactly, so no addition ever rounds and the
  result is the same in any summation order, blocking or threading. BLAS stays fast.
- `exp` and `tanh` are written here from +, -, *, / and `ldexp` in float64 (Cody-Waite range
  reduction and a Taylor polynomial), which IEEE 754 rounds correctly on every CPU; numpy's
  element-wise arithmetic never fuses them into FMAs. Accuracy ~1e-15 relative, far below the
  float32 the world is stored in.
- Element-wise +, -, *, / and comparisons are already exact-rounded everywhere; sums over a few
  slots are written as explicit loops (no `einsum`, whose SIMD accumulation order varies).
The random draws themselves (numpy Generators) are the same on every platform.

Scope. The feature level (every HDF5 and .npy array) goes through this module only, so it is the
same on any x86 CPU, OpenBLAS kernel and thread count. The raw level (waveforms, frames, masks)
takes its products, sums, `exp` and `tanh` from here too, so BLAS kernels and threads cannot change
it; it still calls numpy's FFT, float32 `log`/`cos`/`sin` and complex `exp`, whose SIMD paths gave
the same 16-bit samples and 8-bit pixels on AVX2 and AVX-512 (tested) but not when numpy runs
without AVX2 (a CPU from before 2013).
"""
from __future__ import annotations

import math

import numpy as np

MAX_FRACTION_BITS = 20
"""Finest grid the factors of a product are rounded to (2^-20 ~ 1e-6, about float32's resolution at 1)."""
_MANTISSA = 52
_LN2_HI = 6.93147180369123816490e-01  # ln 2 split so that k * _LN2_HI is exact for |k| < 2^11
_LN2_LO = 1.90821492927058770002e-10
_TAYLOR = [1.0 / math.factorial(i) for i in range(14)]  # |r| <= ln2/2: the 13th-order remainder is < 1e-16


def fixed(x: np.ndarray, bits: int) -> np.ndarray:
    """x (as float64) rounded to the nearest multiple of 2^-bits (scaling by 2^bits is exact)."""
    scale = float(2**bits)
    return np.rint(np.asarray(x, dtype=np.float64) * scale) / scale


def exact_factors(x: np.ndarray, w: np.ndarray) -> tuple[int, np.ndarray, np.ndarray]:
    """(b, x, w) with both factors rounded to the finest grid 2^-b (b <= MAX_FRACTION_BITS) on which
    x @ w is summed exactly in float64: with |x| <= X and |w| <= W after rounding and K terms, every
    partial sum is a multiple of 2^-2b below K·X·W, exact while K·X·W < 2^(53 - 2b). Chosen from the
    values of one call (the world renders CHUNK clips per call; in practice every chunk gets
    MAX_FRACTION_BITS)."""
    x, w = np.asarray(x, dtype=np.float64), np.asarray(w, dtype=np.float64)
    if not (np.isfinite(x).all() and np.isfinite(w).all()):
        raise ValueError("non-finite values in an exact product; the world's knobs are out of range")
    terms = x.shape[-1]
    for bits in range(MAX_FRACTION_BITS, 7, -1):
        xq, wq = fixed(x, bits), fixed(w, bits)
        if terms * float(np.abs(xq).max(initial=0.0)) * float(np.abs(wq).max(initial=0.0)) < 2.0 ** (_MANTISSA + 1 - 2 * bits):
            return bits, xq, wq
    raise ValueError("values too large for an exact product; the world's knobs are out of range")


def product_bits(x: np.ndarray, w: np.ndarray) -> int:
    """The grid `exact_factors` picks for x @ w."""
    return exact_factors(x, w)[0]


def matmul(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """x @ w in float64, the same on every host: both factors on a fixed-point grid (see the module docstring)."""
    _, xq, wq = exact_factors(x, w)
    return xq @ wq


def exp(x: np.ndarray) -> np.ndarray:
    """e^x in float64 from correctly rounded operations only (inputs clipped to [-700, 700])."""
    x = np.clip(np.asarray(x, dtype=np.float64), -700.0, 700.0)
    k = np.rint(x / _LN2_HI)
    r = (x - k * _LN2_HI) - k * _LN2_LO
    p = np.full_like(r, _TAYLOR[-1])
    for c in reversed(_TAYLOR[:-1]):
        p = p * r + c
    return np.ldexp(p, k.astype(np.int64))


def tanh(x: np.ndarray) -> np.ndarray:
    """tanh(x) = sign(x) (1 - e^-2|x|) / (1 + e^-2|x|), from `exp` above."""
    x = np.asarray(x, dtype=np.float64)
    e = exp(-2.0 * np.abs(x))
    return np.where(x < 0, -1.0, 1.0) * ((1.0 - e) / (1.0 + e))


def slot_sum(weight: np.ndarray, values: np.ndarray) -> np.ndarray:
    """float64 [n, T, D]: the sum over event slots e of weight[n, e, t] * values[n, e, t, D] (values
    may have T = 1), slot by slot: a fixed order, unlike `einsum`'s SIMD accumulation."""
    n, slots, segments = weight.shape
    out = np.zeros((n, segments, values.shape[-1]), dtype=np.float64)
    for e in range(slots):
        out += weight[:, e, :, None].astype(np.float64) * values[:, e]
    return out


def norm(x: np.ndarray, axis: int) -> np.ndarray:
    """Euclidean norm along `axis`, squares summed one after another in float64 (a fixed order, unlike a
    BLAS `nrm2`); `sqrt` is correctly rounded everywhere."""
    x = np.moveaxis(np.asarray(x, dtype=np.float64), axis, 0)
    total = np.zeros(x.shape[1:], dtype=np.float64)
    for row in x:
        total = total + row * row
    return np.sqrt(total)

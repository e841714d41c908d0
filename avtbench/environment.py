"""What computed a record: library versions, BLAS vendor / kernel / threads, CPU, device.

Training in float32 on a CPU gives different numbers under another OpenBLAS kernel (SkylakeX,
Haswell, Zen), another thread count or another CPU, because each sums in its own order; a GPU does
too. Every record carries this block, and `avtbench table` warns when one column mixes several.
Imports torch only when asked for the device name.
"""
from __future__ import annotations

import os
import platform
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import Any

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_CORETYPE",
                    "NPY_DISABLE_CPU_FEATURES", "MKL_ENABLE_INSTRUCTIONS", "MKL_CBWR", "ATEN_CPU_CAPABILITY")
"""Environment variables that change a host's arithmetic; recorded when set."""


@dataclass(frozen=True)
class ThreadPool:
    """One native thread pool (a BLAS or an OpenMP runtime), as threadpoolctl reports it."""

    kind: str  # "blas" or "openmp"
    library: str  # openblas, mkl, blis, libgomp, ...
    version: str | None
    kernel: str | None  # the CPU kernel a BLAS picked (OpenBLAS "architecture"), None for OpenMP
    threads: int
    owner: str  # the file name of the shared library (which package's copy)


@dataclass(frozen=True)
class Environment:
    python: str
    numpy: str
    torch: str
    cpu: str
    machine: str
    torch_threads: int
    torch_blas: str  # the BLAS torch was built with (BLAS_INFO: mkl, openblas, ...), linked into it
    torch_cpu_capability: str  # the SIMD level ATen dispatches to (DEFAULT, AVX2, AVX512, ...)
    pools: tuple[ThreadPool, ...]
    device: str
    device_name: str
    variables: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["pools"] = [asdict(p) for p in self.pools]
        return out


def current_environment(device: str = "cpu") -> Environment:
    """This process's environment when computing on `device` ("cpu" or "cuda")."""
    import numpy as np
    import torch

    return Environment(
        python=platform.python_version(), numpy=np.__version__, torch=torch.__version__, cpu=cpu_model(),
        machine=platform.machine(), torch_threads=torch.get_num_threads(), torch_blas=torch_blas(),
        torch_cpu_capability=torch.backends.cpu.get_cpu_capability(), pools=thread_pools(), device=device,
        device_name=torch.cuda.get_device_name(0) if device == "cuda" else cpu_model(),
        variables={k: os.environ[k] for k in THREAD_VARIABLES if k in os.environ})


def thread_pools() -> tuple[ThreadPool, ...]:
    """Every native BLAS and OpenMP pool loaded now (after numpy and torch are imported)."""
    from threadpoolctl import threadpool_info

    pools = []
    for info in threadpool_info():
        pools.append(ThreadPool(kind=info.get("user_api", "?"), library=info.get("internal_api", "?"),
                                version=info.get("version"), kernel=info.get("architecture"),
                                threads=int(info.get("num_threads", 0)),
                                owner=os.path.basename(info.get("filepath", ""))))
    return tuple(sorted(pools, key=lambda p: (p.kind, p.library, p.owner)))


@lru_cache(maxsize=1)
def torch_blas() -> str:
    """BLAS_INFO of torch's build settings (torch's own BLAS is linked in, so threadpoolctl does not see it)."""
    import re

    import torch

    found = re.search(r"BLAS_INFO=([^,\s]+)", torch.__config__.show())
    return found.group(1) if found else "unknown"


@lru_cache(maxsize=1)
def cpu_model() -> str:
    """The CPU's model name (/proc/cpuinfo on Linux, platform.processor() elsewhere)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def environment_signature(env: dict[str, Any] | None) -> str:
    """"<device name>, torch X (blas, simd) xN, numpy Y, <blas> <kernel> xN" from a record's `environment`;
    "unknown" for a record written before records carried one."""
    if not env:
        return "unknown (a record without an environment)"
    blas = sorted({f"{p['library']} {p.get('kernel') or ''} x{p['threads']}".replace("  ", " ")
                   for p in env.get("pools", []) if p.get("kind") == "blas"})  # numpy's and scipy's copies alike
    torch = f"torch {env.get('torch')} ({env.get('torch_blas', '?')}, {env.get('torch_cpu_capability', '?')}) x{env.get('torch_threads')}"
    parts = [env.get("device_name", "?"), torch,
             f"numpy {env.get('numpy')}", *blas]
    return ", ".join(parts)

"""One measurement of `bench_scale.py`, in a fresh process so that its peak RSS is its own: read a
corpus, pretrain one method for a fixed number of optimiser steps (statistics methods: their full
pass), encode a retrieval set through the runner's embedding path, print one JSON line.

    python benchmarks/scale_child.py METHOD CORPUS RETRIEVAL --cache DIR [--memory] [--set k=v ...]
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import tempfile
import threading
import time
from pathlib import Path


class StepClock:
    """Times of every optimiser step (a global torch hook), for steps per second after the first."""

    def __init__(self) -> None:
        from torch.optim.optimizer import register_optimizer_step_post_hook

        self.times: list[float] = []
        self.handle = register_optimizer_step_post_hook(lambda *a: self.times.append(time.perf_counter()))

    def rate(self, steps: int) -> float | None:
        if steps < 2 or len(self.times) < 2:
            return None
        return (steps - 1) / (self.times[-1] - self.times[0])


class GpuSampler:
    """How busy the GPU is: nvidia-smi's utilisation sampled every half second while it runs."""

    def __init__(self, device: str) -> None:
        self.samples: list[float] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True) if device.startswith("cuda") else None
        if self.thread:
            self.thread.start()

    def _run(self) -> None:
        while not self.stop.wait(0.5):
            out = subprocess.run(["nvidia-smi", "--query-gpu=utilization.gpu", "--format=csv,noheader,nounits"],
                                 capture_output=True, text=True)
            if out.returncode == 0 and out.stdout.strip():
                self.samples.append(float(out.stdout.split()[0]))

    def busy(self) -> float | None:
        self.stop.set()
        return sum(self.samples) / len(self.samples) if self.samples else None


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("method")
    parser.add_argument("corpus")
    parser.add_argument("retrieval")
    parser.add_argument("--cache", required=True)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--memory", action="store_true", help="read the corpus into memory first (API 2's way)")
    parser.add_argument("--set", dest="sets", action="append", default=[])
    parser.add_argument("--workers", type=int, default=0)
    args = parser.parse_args()

    import torch

    from avtbench import config as cfg
    from avtbench.api import SilentProgress
    from avtbench.cache import ArtifactCache
    from avtbench.data import loader
    from avtbench.plugins import registry
    from avtbench.runner import Runner

    torch.manual_seed(0)
    Path(args.cache).mkdir(parents=True, exist_ok=True)
    loader.configure(workers=args.workers)
    plugins = registry()
    method_cls = plugins.method(args.method)
    values = cfg.parse_sets(args.sets).get(args.method, {})
    config = cfg.build(method_cls.config_class, values, args.method)
    read = plugins.dataset("corpus").reader
    corpus = read(Path(args.corpus), "all", level=method_cls.input_level)
    if args.memory:
        corpus = corpus.materialized()
    clock, gpu = StepClock(), GpuSampler(args.device)
    method = method_cls(config, device=args.device, seed=0, cache_dir=Path(args.cache))
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(dir=args.cache) as workdir:
        method.pretrain(corpus, Path(workdir), SilentProgress())
    pretrain_s = time.perf_counter() - started
    steps, wait_s = len(clock.times), loader.STATS.wait_s
    retrieval = read(Path(args.retrieval), "all", level=method_cls.input_level)
    runner = Runner(ArtifactCache(Path(args.cache) / "bench-embeddings"), data=None, device=args.device)
    started = time.perf_counter()
    for modality in method_cls.modalities_for(config):
        if modality != "text" and retrieval.has(modality):
            runner.embed(method, f"bench-{time.time_ns()}", retrieval, modality)
    encode_s = time.perf_counter() - started
    print(json.dumps({
        "method": args.method, "clips": len(corpus), "memory": args.memory, "pretrain_s": pretrain_s, "encode_s": encode_s,
        "optimizer_steps": steps, "steps_per_s": clock.rate(steps), "data_wait_s": wait_s,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "worker_peak_rss_mib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024 if args.workers else None,
        "gpu_mem_mib": torch.cuda.max_memory_allocated() / 2**20 if args.device.startswith("cuda") else None,
        "gpu_busy_percent": gpu.busy(),
    }))


if __name__ == "__main__":
    main()

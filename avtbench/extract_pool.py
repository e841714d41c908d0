"""Where `avtbench extract` runs its videos: this process, a pool of local worker processes
(`--workers N`), or actors on a Ray cluster (`--executor ray`, through the grid executor's own
`executors.ray_cluster.start` and `actor_map`, settings in `--set executor.<field>=...`).

Whichever runs them, every worker holds a `extract_work.Worker` (its extractors built once) and sends
each video's `VideoResult` back to this process, the sink's one writer: the journal, the skipped
lines and the progress are the same whatever ran the videos, and so are the arrays.
"""
from __future__ import annotations

import os
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from pathlib import Path
from typing import Any, Iterator

from avtbench.extract_work import ClipSpec, VideoResult, Worker

EXECUTORS = ("local", "ray")


def results(todo: list[Path], clip: ClipSpec, built: dict[str, Any], workers: int | None, executor: str,
            config: Any = None) -> Iterator[tuple[Path, VideoResult]]:
    """(path, result) of each of `todo`, as they complete. `built`: the extractors this process built
    (used when it runs the videos itself); `config`: the `executor` section (`ExecutorConfig`) for Ray."""
    if executor == "ray":
        yield from _ray(todo, clip, workers, config)
    elif (workers or 1) == 1 or len(todo) <= 1:
        worker = Worker(clip, built)
        for path in todo:
            yield path, worker.run(path)
    else:
        yield from _processes(todo, clip, int(workers))


def _processes(todo: list[Path], clip: ClipSpec, workers: int) -> Iterator[tuple[Path, VideoResult]]:
    with ProcessPoolExecutor(max_workers=workers, initializer=_start_worker, initargs=(clip, workers)) as pool:
        pending: dict[Future, Path] = {}
        queue = iter(todo)
        try:
            while True:
                for path in queue:
                    pending[pool.submit(_worker_run, path)] = path
                    if len(pending) >= 2 * workers:
                        break
                if not pending:
                    return
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    path = pending.pop(future)
                    yield path, future.result()
        finally:
            for future in pending:
                future.cancel()


_WORKER: dict[str, Worker] = {}


def _start_worker(clip: ClipSpec, workers: int) -> None:
    _WORKER["worker"] = Worker(clip, threads=max(1, (os.cpu_count() or 1) // workers))


def _worker_run(path: Path) -> VideoResult:
    return _WORKER["worker"].run(path)


def _ray(todo: list[Path], clip: ClipSpec, workers: int | None, config: Any) -> Iterator[tuple[Path, VideoResult]]:
    from avtbench.executors.ray_cluster import actor_map, import_ray, start

    ray = import_ray()
    started_here = start(ray, config)
    try:
        threads = max(1, int(config.num_cpus))
        yield from actor_map(ray, config, Worker, (clip, None, threads), todo, workers, _died)
    finally:
        if started_here:
            ray.shutdown()


def _died(path: Path, exc: BaseException) -> VideoResult:
    """A video whose worker died on it more often than `executor.retries` allows: skipped as failed."""
    line = next((x.strip() for x in str(exc).strip().splitlines() if x.strip()), "")
    return VideoResult("failed", f"its worker died on it ({type(exc).__name__}{': ' + line[:160] if line else ''})")

"""How a grid's jobs run: `serial` (this process), `ray` (a Ray cluster) or `slurm` (submitit).

Every executor runs the same two-stage plan (`jobs.two_stages`): one pretraining job per distinct
checkpoint key, then the cells that need it, against the same cache and result store, so a grid
gives the same records whichever engine ran it.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from avtbench.executors.jobs import Executor

EXECUTORS = ("serial", "ray", "slurm")


def executor_for(name: str) -> type[Executor]:
    """The executor class for `name` (imported on demand: Ray and submitit are optional); each
    implements the `jobs.Executor` protocol."""
    if name == "serial":
        from avtbench.executors.serial import SerialExecutor

        return SerialExecutor
    if name == "ray":
        from avtbench.executors.ray_cluster import RayExecutor

        return RayExecutor
    if name == "slurm":
        from avtbench.executors.slurm import SlurmExecutor

        return SlurmExecutor
    from avtbench.errors import UserError

    raise UserError(f"unknown executor {name!r}; use one of {', '.join(EXECUTORS)}")

"""The `executor` section of a config (`--set executor.<field>=...`); each field says which engine reads it."""
from __future__ import annotations

from dataclasses import dataclass

from avtbench.config import setting

SECTION = "executor"


@dataclass
class ExecutorConfig:
    """address (ray): "local" starts a local cluster (no dashboard); anything else is passed to
        `ray.init(address=...)` to join an existing one (e.g. "auto", "ray://head:10001").
    num_cpus, num_gpus (ray): resources of each job (a Ray task).
    local_cpus (ray, local cluster only): CPUs of the local cluster (0: all of the machine's).
    retries (ray): how often a job whose worker died is run again before its cell is recorded as failed.
    partition, time_min, cpus_per_task, gpus_per_node, mem_gb, array_parallelism (slurm): the
        submitit `AutoExecutor` parameters of both job arrays.
    slurm_cluster (slurm): submitit's cluster ("slurm", or "local"/"debug" to run the arrays on this
        machine, for tests and dry runs); "" lets submitit pick.
    """

    address: str = "local"
    num_cpus: float = setting(1.0, above=0)
    num_gpus: float = setting(0.0, low=0)
    local_cpus: int = setting(0, low=0)
    retries: int = setting(1, low=0, high=100)
    partition: str = ""
    time_min: int = setting(240, low=1)
    cpus_per_task: int = setting(2, low=1)
    gpus_per_node: int = setting(0, low=0)
    mem_gb: int = setting(16, low=1)
    array_parallelism: int = setting(64, low=1)
    slurm_cluster: str = setting("", choices=("", "slurm", "local", "debug"))

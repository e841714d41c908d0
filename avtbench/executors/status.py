"""`avtbench status`: each grid's cells by state, from its manifest, the store and the cell locks."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

from avtbench.errors import UserError
from avtbench.store import is_complete_record, read_json

STATES = ("done", "running", "pending", "failed")


def cell_state(cell: dict[str, str]) -> str:
    """done (a complete record), failed (a failure record), running (someone holds its lock), or pending."""
    from filelock import FileLock, Timeout

    if is_complete_record(Path(cell["record"])):
        return "done"
    if Path(cell["failure"]).is_file():
        return "failed"
    lock = Path(cell["lock"])
    if lock.is_file():
        try:
            with FileLock(str(lock), timeout=0):
                pass
        except Timeout:
            return "running"
    return "pending"


def grid_status(results: Path) -> Iterator[str]:
    manifests = sorted((results / ".avtbench" / "grids").glob("*.json"))
    if not manifests:
        raise UserError(f"no grid was run or submitted into {results}; run `avtbench run ... --results {results}`")
    for path in manifests:
        manifest = read_json(path)
        if not isinstance(manifest, dict):
            yield f"grid {path.stem}: unreadable manifest {path}"
            continue
        states = [(cell["label"], cell_state(cell)) for cell in manifest.get("cells", [])]
        counts = ", ".join(f"{sum(s == state for _, s in states)} {state}" for state in STATES)
        yield f"grid {manifest['grid']} ({manifest['executor']}, {manifest['created']}): {counts}"
        for stage, ids in manifest.get("jobs", {}).items():
            if ids:
                yield f"  {stage} jobs: " + ", ".join(f"{i} {job_state(manifest, i)}".strip() for i in ids)
        for label, state in states:
            if state != "done":
                yield f"  {state:<8} {label}"


def job_state(manifest: dict[str, Any], job_id: str) -> str:
    """submitit's state of a Slurm job ("RUNNING", "COMPLETED", ...), or "?" where it cannot be asked."""
    if manifest.get("executor") != "slurm" or manifest.get("cluster") in ("local", "debug"):
        return ""
    import logging

    quiet = logging.getLogger("submitit")
    level = quiet.level
    quiet.setLevel(logging.ERROR)
    try:
        import submitit

        return str(submitit.SlurmJob(folder=manifest.get("folder", "."), job_id=job_id).state)
    except Exception:  # no sacct here, or submitit missing: the cells' states above still hold
        return "?"
    finally:
        quiet.setLevel(level)

"""Run a planned grid through an executor into a result store: what `avtbench run` and `avtbench suite run`
share once their cells are planned (one place for the executor set-up, the per-cell lines, the grid
manifest, the summary and the exit codes, so that a suite runs exactly as the same cells would under `run`)."""
from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from avtbench.errors import UserError

if TYPE_CHECKING:
    from avtbench.cache import ArtifactCache
    from avtbench.logs import RunLog
    from avtbench.plan import Plan


@dataclass(frozen=True)
class RunOptions:
    """Where and how a planned grid runs: `avtbench run`'s options beyond the grid itself."""

    results: str = "results"
    device: str = "auto"
    executor: str = "serial"
    overwrite: bool = False
    retry_failed: bool = False
    loader_workers: str = "auto"


def check_not_empty(plan: Plan) -> None:
    """One line when the plan has no cell to run (every direction skipped, or nothing named)."""
    if plan.cells:
        return
    if plan.skipped:
        raise UserError(f"nothing to run: {plan.skipped[0]}; pick a direction over the method's modalities")
    raise UserError("nothing to run; name at least one method, task and direction")


def run_plan(out: RunLog, plan: Plan, document: dict, cache: ArtifactCache, options: RunOptions,
             table_hint: str) -> None:
    """Run every cell of `plan` (the executor's settings from `document`'s `executor` section) into
    `options.results`, telling one line per cell; exit 1 when a cell failed. `table_hint` is the command
    the summary line points to for the table."""
    from rich.markup import escape

    from avtbench import config as cfg
    from avtbench.executors import executor_for
    from avtbench.executors.jobs import GridRun, WorkerContext
    from avtbench.executors.report import GridReport, did_work, new_grid_id, write_manifest
    from avtbench.executors.settings import SECTION as EXECUTOR_SECTION
    from avtbench.executors.settings import ExecutorConfig
    from avtbench.progress import make_progress
    from avtbench.runner import Runner, resolve_device, resolve_loader_workers
    from avtbench.store import ResultStore

    check_not_empty(plan)
    for reason in plan.skipped:
        out.info(f"skipped {reason}", f"[yellow]skipped[/] {escape(reason)}")
    store = ResultStore(options.results)
    device_name = resolve_device(options.device)
    workers = resolve_loader_workers(options.loader_workers, device_name)
    executor_config = cfg.build(ExecutorConfig, document.get(EXECUTOR_SECTION, {}), EXECUTOR_SECTION)
    executor_cls = executor_for(options.executor)
    cache.prepare()
    store.prepare()
    grid_id = new_grid_id()
    context = WorkerContext(str(cache.root.resolve()), str(store.root.resolve()), device_name, grid_id, workers)
    report = GridReport(notify=lambda event: tell(out, escape, event))
    with make_progress(out.bars, out.stage_lines) as progress:
        runner = Runner(cache, plan.data, device_name, progress, log=out.log, grid_id=grid_id, loader_workers=workers)
        grid = GridRun(plan, runner, store, report, context, overwrite=options.overwrite,
                       retry_failed=options.retry_failed)
        executor_cls(executor_config).run(grid, progress=progress)
    slurm = options.executor == "slurm"
    extra = {"folder": str(store.root / ".avtbench" / "slurm"), "cluster": executor_config.slurm_cluster} if slurm else {}
    manifest = write_manifest(store.root, options.executor, plan, store, report.job_ids, extra, grid_id) \
        if did_work(report) else None
    if slurm and manifest is None:
        out.summary(f"nothing to submit: every cell of the grid is done in {store.root}, or failed before "
                    "(--retry-failed submits those again)")
        return
    if slurm:
        ids = ", ".join(f"{stage}: {' '.join(j) or 'none'}" for stage, j in report.job_ids.items())
        out.summary(f"submitted to Slurm ({ids}); manifest {manifest}; follow with `avtbench status --results {store.root}`")
        return
    if report.failures:
        out.summary(f"{report.failures} of {len(plan.cells)} cell(s) failed (see `avtbench status --results {store.root}`); "
                    "fix and run again with --retry-failed")
        sys.exit(1)
    out.summary(f"{len(plan.cells)} cell(s) in {store.root}; see `{table_hint}`")


def tell(out: Any, escape: Callable[[str], str], event: Any) -> None:
    """One line per cell (`executors.report.CellEvent`): done (with its main metric), cached, failed,
    skipped or submitted."""
    label = event.label
    if event.kind == "done":
        record = event.record
        line = f"{label}: {record.main_metric} = {record.main_value:.2f} ({record.timings.total_s:.1f}s)"
        if event.path:
            line += f" -> {event.path}"
        out.info(f"done    {line}", f"[green]done[/]    {escape(line)}")
        pretrain, timings = record.pretrain, record.timings
        out.debug(f"{label}: checkpoint {pretrain.checkpoint} {pretrain.describe()}; "
                  f"pretrain {timings.pretrain_s:.1f}s, encode {timings.encode_s:.1f}s, "
                  f"evaluate {timings.evaluate_s:.1f}s; record {event.path}")
    elif event.kind == "cached":
        out.info(f"cached  {label}: {event.path}", f"[dim]cached[/]  {escape(label)}: {escape(event.path)}")
    elif event.kind == "failed":
        line = f"{label}: {event.error} (see {event.path})"
        out.info(f"failed  {line}", f"[red]failed[/]  {escape(line)}")
    elif event.kind == "skipped-failed":
        line = f"{label}: failed before (see {event.path}); --retry-failed runs it again"
        out.info(f"skipped {line}", f"[yellow]skipped[/] {escape(line)}")
    else:
        out.info(f"{event.kind} {label}: job {event.job_id}", f"[blue]{event.kind}[/] {escape(label)}")

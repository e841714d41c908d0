"""A suite planned: every row x task x direction x seed through `plan.make_plan`, with the same checks as
`avtbench run` (methods, tasks, directions, settings and data, before anything runs), each error
prefixed with the suite and row. Each cell keeps the row it belongs to, so that the table finds a
variant's records by its own config hash (variants of one method coexist in the store), and the run
manifest (`results/suites/<name>/run.json`) keeps the `--set` and seeds a suite ran under."""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from avtbench.errors import UserError
from avtbench.suites.model import Document, Suite, SuiteRow

if TYPE_CHECKING:
    from avtbench.cache import ArtifactCache
    from avtbench.plan import Plan, PlannedCell
    from avtbench.plugins import Registry

SUITES_FOLDER = "suites"
"""Under a result store: one folder per suite with its run manifest and its figure."""
MANIFEST = "run.json"


@dataclass(frozen=True)
class SuiteCell:
    row: SuiteRow
    planned: PlannedCell


@dataclass
class SuitePlan:
    suite: Suite
    cells: list[SuiteCell]
    plan: Plan
    """The distinct cells to run (two rows of equal settings share theirs), for `gridrun.run_plan`."""
    seeds: tuple[int, ...]
    sets: list[str] = field(default_factory=list)
    """The `--set` items the suite is planned under (shown in the table's caption)."""

    def of(self, row: SuiteRow, task: str, direction: str) -> list[SuiteCell]:
        return [c for c in self.cells if c.row is row and c.planned.cell.task == task
                and c.planned.cell.direction == direction]

    def columns(self, row: SuiteRow) -> list[tuple[str, str]]:
        """(task, direction) of the row's cells, in plan order."""
        return list(dict.fromkeys((c.planned.cell.task, c.planned.cell.direction) for c in self.cells if c.row is row))

    def datasets(self) -> list[str]:
        """Every dataset a cell reads, in first-read order."""
        return list(dict.fromkeys(name for c in self.cells for name in c.planned.cell.data.get("fingerprints", {})))


def plan_suite(registry: Registry, suite: Suite, cache: ArtifactCache, sets: list[str] | tuple[str, ...] = (),
               seeds: list[int] | tuple[int, ...] | None = None) -> SuitePlan:
    """Every cell of `suite` under `sets` (`--set` items, over every row's settings) and `seeds` (None: the
    suite's), checked as `avtbench run` checks its grid."""
    from avtbench import config as cfg
    from avtbench.plan import Plan, make_plan

    overrides: Document = cfg.parse_sets(sets)
    seeds = tuple(seeds or suite.seeds)
    cells: list[SuiteCell] = []
    skipped: list[str] = []
    data = None
    for row in suite.rows:
        document = suite.document(row, overrides)
        for task, directions in suite.tasks.items():
            try:
                plan = make_plan(registry, [row.method], [task], list(directions), list(seeds), document, cache)
            except UserError as exc:
                raise UserError(f"suite {suite.name}, row {row.label!r}: {exc}") from None
            data = data or plan.data
            cells += [SuiteCell(row, planned) for planned in plan.cells]
            skipped += [f"{row.label}: {reason}" for reason in plan.skipped]
    distinct = list({c.planned.cell.cell_hash: c.planned for c in cells}.values())
    splan = SuitePlan(suite, cells, Plan(distinct, skipped, data), seeds, list(sets))
    _check_published(splan)
    return splan


def _check_published(splan: SuitePlan) -> None:
    """Every published figure stands beside a cell the suite runs."""
    for row, figure in splan.suite.published:
        if not splan.of(row, figure.task, figure.direction):
            raise UserError(f"suite {splan.suite.name}, row {row.label!r}: the published figure at {figure.where()} "
                            f"stands beside {figure.task} {figure.direction}, which the row's grid does not run; "
                            "fix the figure's task/direction or the suite's tasks")


def check_figure(registry: Registry, suite: Suite) -> None:
    """The suite's figure names a plot that compares pretrained methods, of a method some row runs."""
    if suite.figure is None:
        return
    plot = registry.plot(suite.figure.plot)
    if not plot.several:
        raise UserError(f"suite {suite.name}: figure plot {plot.name!r} draws one {'cell' if plot.task else 'method'}; "
                        "a suite's figure must be a plot that compares several pretrained methods")
    if not any(row.method == plot.method for row in suite.rows):
        raise UserError(f"suite {suite.name}: figure plot {plot.name!r} draws {plot.method}, which no row runs")


def suite_folder(results: str | Path, suite: Suite) -> Path:
    return Path(results) / SUITES_FOLDER / suite.name


def write_manifest(results: str | Path, splan: SuitePlan) -> Path:
    """results/suites/<name>/run.json: the `--set` items and seeds of the suite's last run, for its table."""
    from avtbench.atomic import write_text_atomic

    manifest = {"suite": splan.suite.name, "origin": splan.suite.origin, "sets": splan.sets,
                "seeds": list(splan.seeds), "cells": len(splan.plan.cells),
                "created": time.strftime("%Y-%m-%dT%H:%M:%S")}
    path = suite_folder(results, splan.suite) / MANIFEST
    write_text_atomic(path, json.dumps(manifest, indent=1) + "\n")
    return path


def read_manifest(results: str | Path, suite: Suite) -> dict[str, Any] | None:
    """The manifest of the suite's last run into `results`; None when it never ran there."""
    path = suite_folder(results, suite) / MANIFEST
    try:
        manifest = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        raise UserError(f"suite run manifest {path} does not parse; remove it, or run the suite again") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("sets", []), list) \
            or not isinstance(manifest.get("seeds", []), list):
        raise UserError(f"suite run manifest {path} is not one `avtbench suite run` wrote; remove it, or run the suite again")
    return manifest

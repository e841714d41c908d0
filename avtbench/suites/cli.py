"""`avtbench suite list | run | table`: the paper suites (benchmarks/suites/*.yaml and the plugins'),
each a grid of one published table or figure, run like any grid and tabled beside the published figures."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from avtbench.cliopts import grid_options, parse_seeds, settings_document
from avtbench.errors import UserError
from avtbench.toolkit.commands import cli_guard

if TYPE_CHECKING:
    from avtbench.cache import ArtifactCache
    from avtbench.suites.model import Suite
    from avtbench.suites.plan import SuitePlan


@click.group()
def suite() -> None:
    """Paper suites: each a published table or figure as a grid, beside the published figures.

    `avtbench suite list` shows them, `avtbench suite run NAME` runs one (resumable, as `avtbench run`), and
    `avtbench suite table NAME` prints ours beside the paper's figures, with the difference."""


@suite.command(name="list")
@cli_guard
def list_suites() -> None:
    """Every suite: name, the number of cells its grid plans (or why it does not plan), source and title."""
    from tabulate import tabulate

    from avtbench.cache import ArtifactCache
    from avtbench.plugins import registry
    from avtbench.suites.catalog import suite_entries
    from avtbench.suites.plan import plan_suite

    reg, cache = registry(), ArtifactCache(None)
    lines, problems = [], []
    for entry in suite_entries(reg):
        if entry.suite is None:
            lines.append([entry.name, "-", entry.origin, ""])
            problems.append(f"{entry.name} does not load: {entry.error}")
            continue
        try:
            cells = str(len(plan_suite(reg, entry.suite, cache).cells))
        except UserError as exc:
            cells = "-"
            problems.append(f"{entry.name} does not plan: {exc}")
        lines.append([entry.name, cells, entry.suite.source.brief(), entry.suite.title])
    if not lines:
        raise UserError("no suite found: benchmarks/suites/ is not beside this installation and no plugin ships one; "
                        "give `avtbench suite run` a suite .yaml file")
    click.echo(tabulate(lines, headers=["suite", "cells", "source", "title"], tablefmt="plain", disable_numparse=True))
    for problem in problems:
        click.echo(problem)


def _planned(found: Suite, sets: tuple[str, ...], seeds: tuple[str, ...], cache_dir: str | None,
             default_seeds: tuple[int, ...] | None = None) -> tuple[SuitePlan, ArtifactCache]:
    """The suite `found` planned under the command line's --set and --seed (else `default_seeds`, else its own)."""
    from avtbench.cache import ArtifactCache
    from avtbench.plugins import registry
    from avtbench.suites.plan import check_figure, plan_suite

    reg = registry()
    settings_document(None, sets)  # a malformed --set is one line before any planning
    cache = ArtifactCache(cache_dir)
    run_seeds = parse_seeds(seeds, default_seeds or found.seeds)
    splan = plan_suite(reg, found, cache, sets, run_seeds)
    check_figure(reg, found)
    return splan, cache


@suite.command(name="run")
@click.argument("name")
@click.option("--seed", "-s", "seeds", multiple=True, help="Seed(s) instead of the suite's; repeat or comma-separate.")
@click.option("--set", "sets", multiple=True, metavar="SECTION.KEY=VALUE",
              help="Override one setting on top of the suite's (every row), e.g. data.profile=tiny; shown in the table's caption.")
@click.option("--dry-run", is_flag=True, help="List the suite's cells (one line each, with whether its record exists) and run nothing.")
@grid_options("Where jobs run; settings with --set executor.<field>=...")
@cli_guard
def run_suite(name, seeds, sets, device, results, cache_dir, overwrite, dry_run, quiet, verbose, log_path,
              executor_name, retry_failed, loader_workers) -> None:
    """Run every cell of suite NAME (a name of `avtbench suite list`, or a suite .yaml file) into --results.

    Resumable like `avtbench run`: finished cells are skipped. The --set items and seeds are kept in
    <results>/suites/NAME/run.json, where `avtbench suite table` finds them."""
    from avtbench.logs import RunLog

    with RunLog(quiet=quiet, verbose=verbose, path=log_path) as out:
        from avtbench.plugins import registry
        from avtbench.suites.catalog import find_suite

        splan, cache = _planned(find_suite(registry(), name), sets, seeds, cache_dir)
        if dry_run:
            _dry_run(splan, results)
            return
        from avtbench.gridrun import RunOptions, run_plan
        from avtbench.suites.plan import write_manifest

        write_manifest(results, splan)
        options = RunOptions(results, device, executor_name, overwrite, retry_failed, loader_workers)
        hint = f"avtbench suite table {name} --results {results}"
        run_plan(out, splan.plan, settings_document(None, sets), cache, options, table_hint=hint)


def _dry_run(splan: SuitePlan, results: str) -> None:
    """One line per cell: the row, the cell, its config hash and whether its record is there."""
    from avtbench.store import ResultStore

    store = ResultStore(results)
    done = 0
    for cell in splan.cells:
        planned = cell.planned.cell
        state = "done" if store.exists(planned) else ("failed" if store.failure(planned) else "to run")
        done += state == "done"
        click.echo(f"{cell.row.label}: {planned.label()} [{planned.config_hash}] {state}")
    for reason in splan.plan.skipped:
        click.echo(f"skipped {reason}", err=True)
    click.echo(f"{len(splan.cells)} cell(s) in suite {splan.suite.name} ({len(splan.plan.cells)} distinct, "
               f"{done} done in {results}); nothing run (--dry-run)", err=True)


@suite.command(name="table")
@click.argument("name")
@click.option("--results", default="results", show_default=True, type=click.Path(file_okay=False))
@click.option("--format", "fmt", default="markdown", type=click.Choice(["markdown", "latex", "csv"]), show_default=True)
@click.option("--precision", default=1, show_default=True, type=click.IntRange(0, 6))
@click.option("--set", "sets", multiple=True, metavar="SECTION.KEY=VALUE",
              help="The settings the suite ran under (default: those its last `suite run` into --results recorded).")
@click.option("--seed", "-s", "seeds", multiple=True, help="Seeds to table (default: those of the last run, else the suite's).")
@click.option("--cache", "cache_dir", type=click.Path(file_okay=False), help="Where the figure's checkpoints are (the run's cache).")
@click.option("--device", default="auto", type=click.Choice(["auto", "cpu", "cuda"]), show_default=True)
@click.option("--figure/--no-figure", default=True, show_default=True, help="Draw the suite's figure, if it names one.")
@cli_guard
def table_suite(name, results, fmt, precision, sets, seeds, cache_dir, device, figure) -> None:
    """Ours (mean ± std (n) over seeds) beside each published figure of suite NAME, and the difference.

    The caption says which data the run used (real roots, or the synthetic world, whose numbers test the
    pipeline and do not reproduce the paper) and the --set it ran under. A suite with a figure also gets
    it drawn next to the table, in <results>/suites/NAME/."""
    from avtbench.plugins import registry
    from avtbench.store import ResultStore
    from avtbench.suites.caption import caption, data_used
    from avtbench.suites.catalog import find_suite
    from avtbench.suites.plan import read_manifest, suite_folder
    from avtbench.suites.table import build_suite_table, render_suite_table

    found = find_suite(registry(), name)
    manifest = read_manifest(results, found) or {}
    if not sets:
        sets = tuple(manifest.get("sets", []))
    default_seeds = tuple(manifest.get("seeds") or found.seeds)
    splan, cache = _planned(found, sets, seeds, cache_dir, default_seeds)
    built = build_suite_table(splan, ResultStore(results))
    data = data_used(splan)
    text = caption(splan, built, data)
    click.echo(render_suite_table(built, text, fmt, precision, data.short()))
    if fmt == "csv":
        click.echo(text, err=True)
    for line in built.missing_metrics:
        click.echo(f"warning: {line}", err=True)
    if figure and found.figure is not None:
        from avtbench.suites.figure import draw_suite_figure

        try:
            path = draw_suite_figure(splan, cache, suite_folder(results, found), device)
        except UserError as exc:
            click.echo(f"figure not drawn: {exc}", err=True)
        else:
            click.echo(f"wrote figure {Path(path)}", err=True)

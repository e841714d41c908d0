"""`avtbench table`: a result store's seeds aggregated into one table, for reading (markdown), a paper (latex)
or a script (csv, json). Light to import: the store and the tables are imported when the command runs."""
from __future__ import annotations

from pathlib import Path

import click

from avtbench.errors import UserError
from avtbench.toolkit.commands import cli_guard


@click.command()
@click.option("--results", default="results", show_default=True, type=click.Path(file_okay=False))
@click.option("--format", "fmt", default="markdown", type=click.Choice(["markdown", "latex", "csv", "json"]),
              show_default=True)
@click.option("--metric", default=None, help="Metric to show instead of each task's main metric.")
@click.option("--precision", default=1, show_default=True, type=int, help="Decimals of markdown and latex cells.")
@click.option("--test", "test", default="ttest", type=click.Choice(["ttest", "wilcoxon"]), show_default=True,
              help="Two-sided paired test of the best against the runner-up over shared seeds (3 or more).")
@cli_guard
def table(results, fmt, metric, precision, test) -> None:
    """Mean ± sample std over seeds (n), or mean (n=1): rows methods, columns task/direction.

    Bold marks the best where two or more methods have a value; a dagger marks a best that is not ahead of the
    runner-up at p < 0.05 on their shared seeds (see the footer line).

    --format json prints a JSON list on stdout (warnings go to stderr), one object per method x column that has
    a value, unrounded: method, method_hash, row (the markdown's row label), task, direction, column_hash,
    column (the markdown's column label), metric, lower_is_better, mean, std (sample std; null for one seed),
    n, seeds ({"<seed>": value}), best (the markdown's bold), and comparison (null unless best: runner_up, test,
    shared_seeds, pvalue, ahead; ahead false is the dagger, null untested)."""
    from avtbench.store import ResultStore
    from avtbench.tables import build_table, render

    if not Path(results).is_dir():
        raise UserError(f"result folder {results} does not exist; run `avtbench run ...` first or pass --results")
    store = ResultStore(results)
    built = build_table(store.records(), metric, test=test)
    click.echo(render(built, fmt, precision))
    for line in built.mixed_environments():
        click.echo(line, err=True)
    failed = store.failures()
    if failed:
        click.echo(f"{len(failed)} cell(s) failed and are not in the table; see `avtbench status --results {results}`", err=True)

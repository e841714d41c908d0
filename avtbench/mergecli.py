"""`avtbench merge SRC... --into DEST`: the result stores of several machines put into one (`merging.py`).
Light to import: the merging code is imported when the command runs."""
from __future__ import annotations

import click

from avtbench.toolkit.commands import cli_guard


@click.command()
@click.argument("sources", nargs=-1, required=True, metavar="SRC...", type=click.Path())
@click.option("--into", "dest", required=True, metavar="DEST", type=click.Path(),
              help="Result store to merge into: a new or empty folder, or a store (its records count as a source's).")
@click.option("--prefer", type=click.Choice(["newest"]), default=None,
              help="Settle a cell whose records' metrics differ by keeping the one that finished last, by the "
                   "`created` time the run wrote into the record (not the file's modification time).")
@click.option("--dry-run", is_flag=True, help="Read and check everything, print the summary, write nothing.")
@cli_guard(interrupted="interrupted: each file merged so far is whole; run the same command again to finish")
def merge(sources, dest, prefer, dry_run) -> None:
    """Put result stores from several machines into one: records, failures and the tasks' artifacts.

    A cell is its place, <method>/<task>/<direction>/seed<k>-<config hash>. Records of one cell with equal
    metrics are kept once; with different metrics the merge stops before writing anything, with one line
    naming both files (or --prefer newest). A failure never replaces a record; a record replaces a failure.
    The sources are only read; each file is written atomically. Lock files, grid manifests, records set
    aside as corrupt and temporary files are not copied. Ends with one summary line: copied, kept once,
    settled conflicts, failures, artifact folders, and what was skipped."""
    from pathlib import Path

    from avtbench.merging import merge_stores

    plan = merge_stores([Path(s) for s in sources], Path(dest), prefer, dry_run)
    for line in plan.settled:
        click.echo(line, err=True)
    click.echo(plan.summary(written=not dry_run))

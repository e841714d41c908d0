"""`avtbench report --results DIR --out SITE`: a result store as a static web site (`avtbench.report`).

Light to import (click only): the report's modules, matplotlib and the plugins' sections are imported when
the command runs. Bad input (no store, an empty store, SITE a file or a folder of other files) is one
`error:` line and exit 2 before anything is written.
"""
from __future__ import annotations

from pathlib import Path

import click

from avtbench.toolkit.commands import cli_guard


@click.command()
@click.option("--results", default="results", show_default=True, type=click.Path(file_okay=False),
              help="Result store to show.")
@click.option("--out", "out", required=True, type=click.Path(), help="Folder to write the site into (index.html first).")
@click.option("--quiet", "-q", is_flag=True, help="Only errors and the final line.")
@click.option("--verbose", "-v", is_flag=True, help="Also per-stage lines on a terminal.")
@click.option("--log", "log_path", metavar="FILE", help="Also append plain, timestamped progress lines to FILE.")
@cli_guard
def report(results: str, out: str, quiet: bool, verbose: bool, log_path: str | None) -> None:
    """Write a static web site of a result store: the main table, per-class scores, training curves, plugins'
    sections, failed cells and each cell's provenance.

    Plain HTML and PNG files with relative links: open SITE/index.html in a browser from the file system,
    or copy the folder anywhere. Writing into a folder that holds an earlier report replaces it."""
    from avtbench.logs import RunLog
    from avtbench.report.model import read_model
    from avtbench.report.site import check_out

    check_out(Path(out))
    read_model(Path(results))  # no store, or an empty one: one line, before the output folder is touched
    with RunLog(quiet=quiet, verbose=verbose, path=log_path) as log:
        from avtbench.plugins import registry
        from avtbench.progress import make_progress
        from avtbench.report.site import write_site

        sections = registry().sections
        log.debug("report sections: " + (", ".join(s.name for s in sections) or "none"))
        with make_progress(log.bars, log.stage_lines) as progress:
            summary = write_site(Path(results), Path(out), sections, progress, log.info)
        log.summary(f"wrote {summary.pages} page(s) and {summary.images} picture(s) for {summary.cells} cell(s) "
                    f"({summary.failures} failed) -> {summary.index}", stdout=True)

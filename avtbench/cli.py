"""Command line: `avtbench run`, `list`, `status`, `plot`, `check`; `table` (`tablecli.py`), `merge` (`mergecli.py`),
`report` (`reportcli.py`), `suite` (`suites/cli.py`), `convert` and `data` (`datacli.py`), `extract`
(`extract.py`); and
the commands plugins add (hooks `avtbench_cards`, `avtbench_commands`). Heavy imports happen inside commands only; plugins are
discovered when a command that is not built in is asked for and by `--help`, which lists the plugins'
commands from their cards (a command's module is imported when it is invoked)."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from avtbench.cliopts import grid_options, parse_seeds, settings_document, split_values
from avtbench.datacli import convert, data
from avtbench.errors import UserError
from avtbench.extract import extract
from avtbench.mergecli import merge
from avtbench.reportcli import report
from avtbench.suites.cli import suite
from avtbench.tablecli import table
from avtbench.toolkit.commands import cli_guard

if TYPE_CHECKING:
    from avtbench.catalog import Catalog

EXIT_USER_ERROR = 2


class PluginGroup(click.Group):
    """The built-in commands plus every command a plugin contributes; a built-in name always wins.

    `--help` lists both, each with the first sentence of its help, whole; a plugin's from its card, without
    importing the command's module, which is imported when the command is invoked."""

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        return super().get_command(ctx, name) or _plugin_command(name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        built_in = [(name, _first_sentence(self.commands[name])) for name in sorted(self.commands)]
        try:
            plugins = [(c.name, c.summary) for c in _plugin_commands().cards() if c.name not in self.commands]
        except Exception:  # a broken plugin never hides the built-in commands; `avtbench list` names it
            plugins = []
        for title, commands in (("Commands", built_in), ("Plugin commands", plugins)):
            if commands:
                with formatter.section(title):
                    formatter.write_dl(commands)


def _first_sentence(command: click.Command) -> str:
    """A command's short help: its `short_help`, else the first sentence of its help, never cut inside it."""
    from avtbench.cards import CommandCard

    return CommandCard.of(command).summary


def _plugin_commands() -> "Catalog[click.Command]":
    from avtbench.plugins import registry

    return registry().commands


def _plugin_command(name: str) -> click.Command | None:
    """The plugin command `name`, imported now; one line and exit 2 when it cannot be."""
    commands = _plugin_commands()
    if name not in commands:
        return None
    try:
        return commands[name]
    except UserError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_USER_ERROR)


@click.group(cls=PluginGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="avtbench")
def main() -> None:
    """avtbench: train and evaluate cross-modal representation methods on audio-visual-text tasks.

    Installed plugins may add commands of their own: `avtbench list` shows them."""


for _command in (convert, data, extract, merge, report, suite, table):
    main.add_command(_command)

@main.command()
@click.option("--method", "-m", "methods", multiple=True, required=True, help="Method name(s); repeat or comma-separate.")
@click.option("--task", "-t", "tasks", multiple=True, required=True, help="Task name(s).")
@click.option("--direction", "-d", "directions", multiple=True, help="Direction(s) like v2a; default: all the task supports.")
@click.option("--seed", "-s", "seeds", multiple=True, help="Seed(s); default 0.")
@click.option("--config", "config_file", type=click.Path(dir_okay=False), help="YAML file: sections named after methods, tasks, or `data`.")
@click.option("--set", "sets", multiple=True, metavar="SECTION.KEY=VALUE", help="Override one setting, e.g. data.profile=paper.")
@grid_options("Where jobs run; settings in the config's `executor` section / --set executor.<field>=...")
@cli_guard
def run(methods, tasks, directions, seeds, config_file, sets, device, results, cache_dir, overwrite, quiet, verbose,
        log_path, executor_name, retry_failed, loader_workers) -> None:
    """Train and evaluate every cell of the grid methods x tasks x directions x seeds.

    On a terminal progress shows as bars; otherwise (a log, CI) as plain lines on stderr."""
    from avtbench.logs import RunLog

    with RunLog(quiet=quiet, verbose=verbose, path=log_path) as out:
        from avtbench.cache import ArtifactCache
        from avtbench.gridrun import RunOptions, run_plan
        from avtbench.plan import make_plan
        from avtbench.plugins import registry

        document = settings_document(config_file, sets)
        cache = ArtifactCache(cache_dir)
        plan = make_plan(registry(), split_values(methods), split_values(tasks), split_values(directions), parse_seeds(seeds),
                         document, cache)
        options = RunOptions(results, device, executor_name, overwrite, retry_failed, loader_workers)
        run_plan(out, plan, document, cache, options, table_hint=f"avtbench table --results {results}")


@main.command(name="list")
@cli_guard
def list_plugins() -> None:
    """Methods, tasks, directions, datasets, plots, plugin commands and extractors, and plugins that failed to load."""
    from rich.console import Console
    from rich.markup import escape

    from avtbench.plugins import registry

    reg = registry()
    # redirected (a file, a pipe): wide, and long words fold instead of being cut with an ellipsis
    console = Console() if sys.stdout.isatty() else Console(width=160)

    def folding_table(*headers: str, title: str) -> Any:
        from rich.table import Table as RichTable

        table = RichTable(title=title)
        for header in headers:
            table.add_column(header, overflow="fold")
        return table

    methods = folding_table("method", "version", "modalities", "status", "summary", title="methods")
    for card in reg.methods.cards():
        methods.add_row(card.name, card.version, ", ".join(card.modalities), card.status, card.summary)
    tasks = folding_table("task", "version", "directions", "main metric", "datasets", "status", title="tasks")
    task_cards = reg.tasks.cards()
    for card in task_cards:
        tasks.add_row(card.name, card.version, ", ".join(card.directions), card.main_metric, ", ".join(card.datasets), card.status)
    console.print(methods, tasks)
    directions = sorted({d for card in task_cards for d in card.directions})
    console.print(f"directions: {', '.join(directions)}")
    datasets = folding_table("dataset", "splits", "classes", "on-disk format", title="datasets")
    for card in reg.datasets.cards():
        datasets.add_row(card.name, ", ".join(card.splits), str(card.classes), card.format)
    console.print(datasets)
    if reg.plots:
        console.print("plots: " + ", ".join(f"{c.name} ({c.subject()})" for c in reg.plots.cards()))
    if reg.commands:
        console.print("plugin commands: " + ", ".join(sorted(reg.commands)))
    if reg.converters:
        console.print("converters (avtbench convert NAME): " + ", ".join(f"{c.name} (writes {c.dataset})" for c in reg.converters.cards()))
    if reg.extractors:
        console.print("extractors (avtbench extract): " + ", ".join(f"{c.name} ({c.modality})" for c in reg.extractors.cards()))
    for failure in reg.failures:
        state = "unusable plugin" if failure.unusable else "failed plugin"
        console.print(f"[red]{state}[/] {escape(f'{failure.plugin} ({failure.target}): {failure.error}')}", highlight=False)


@main.command()
@click.option("--results", default="results", show_default=True, type=click.Path(file_okay=False))
@cli_guard
def status(results) -> None:
    """Done / pending / running / failed cells of every grid run or submitted into --results."""
    from avtbench.executors.status import grid_status

    if not Path(results).is_dir():
        raise UserError(f"result folder {results} does not exist; run `avtbench run ...` first or pass --results")
    for line in grid_status(Path(results)):
        click.echo(line)


@main.command()
@click.argument("name")
@click.option("--method", "-m", default=None, help="Method drawn (a method plot: default its own; a cell plot: required).")
@click.option("--direction", "-d", default=None, help="Direction of a cell plot's cell (default: the plot's).")
@click.option("--seed", "-s", default=0, show_default=True, type=int)
@click.option("--config", "config_file", type=click.Path(dir_okay=False))
@click.option("--set", "sets", multiple=True, metavar="SECTION.KEY=VALUE")
@click.option("--results", default="results", show_default=True, type=click.Path(file_okay=False),
              help="Result store a cell plot reads its cell from (or runs it into).")
@click.option("--cache", "cache_dir", type=click.Path(file_okay=False))
@click.option("--device", default="auto", type=click.Choice(["auto", "cpu", "cuda"]), show_default=True)
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False), help="File to write (e.g. codebook.svg).")
@click.option("--quiet", "-q", is_flag=True, help="Only errors and the final line.")
@click.option("--verbose", "-v", is_flag=True, help="Also per-stage lines on a terminal.")
@click.option("--log", "log_path", metavar="FILE", help="Also append plain, timestamped progress lines to FILE.")
@cli_guard
def plot(name, method, direction, seed, config_file, sets, results, cache_dir, device, out_path, quiet, verbose,
         log_path) -> None:
    """Draw a plugin's named plot (e.g. `avtbench plot codebook -m unified_vq --out usage.svg`).

    A cell plot draws one cell of its task with the method you name (`avtbench plot avs_s4_masks -m
    unified_vq --out masks.png`), read from --results or run into it first, under your --set."""
    from avtbench.logs import RunLog

    with RunLog(quiet=quiet, verbose=verbose, path=log_path) as out:
        from avtbench.plugins import registry
        from avtbench.progress import make_progress
        from avtbench.toolkit.cells import Where, pretrained, run_or_load_cell

        figure = registry().plot(name)
        document = settings_document(config_file, sets)
        with make_progress(out.bars, out.stage_lines) as progress:
            where = Where(results, cache_dir, device, progress, out.log)
            if figure.draws_a_cell:
                if method is None:
                    raise UserError(f"plot {name!r} draws a cell of task {figure.task!r}: name its method with -m")
                cell = run_or_load_cell(method, figure.task, direction or figure.direction, seed, document, where,
                                        figure.artifacts)
                out.debug(f"cell {cell.record.label()} {'run' if cell.computed else 'read'}: {cell.record.path}")
                subject: Any = cell
            else:
                if method is not None and method != figure.method:
                    raise UserError(f"plot {name!r} draws method {figure.method!r}, not {method!r}; drop -m or use -m {figure.method}")
                if direction is not None:
                    raise UserError(f"plot {name!r} draws a pretrained method, not a cell; drop -d")
                subject, info = pretrained(figure.method, seed, document, where)
                out.debug(f"checkpoint {info.checkpoint} {info.describe()}")
                if figure.several:  # a comparison plot, here of the one variant the settings make
                    subject = [(figure.method, subject)]
        out.summary(f"wrote {figure.draw(subject, Path(out_path))}", stdout=True)


@main.command()
@click.argument("names", nargs=-1)
@click.option("--all", "check_all", is_flag=True, help="Check every installed method and task.")
@click.option("--set", "sets", multiple=True, metavar="SECTION.KEY=VALUE", help="Settings for the checked plugins.")
@click.option("--cache", "cache_dir", type=click.Path(file_okay=False), help="Where the tiny world and checkpoints go (default: a temporary folder).")
@cli_guard
def check(names, check_all, sets, cache_dir) -> None:
    """Run the conformance kit (avtbench.testing) on installed methods and tasks, by name.

    One PASS/FAIL line per check; exit 0 only if every check passes. A plugin that failed to load
    fails its own line without hiding the others.
    """
    from avtbench.plugins import registry
    from avtbench.testing import check_method, check_task

    reg = registry()
    document = settings_document(None, sets)
    wanted = sorted({*reg.methods, *reg.tasks, *(f.plugin for f in reg.failures)}) if check_all else list(names)
    if not wanted:
        raise UserError("name at least one method or task to check, or pass --all")
    for name in wanted:  # an unknown or unusable name is bad input (exit 2), before any check runs
        reg.require_checkable(name)
    cache = Path(cache_dir) if cache_dir else None
    failed = 0
    for name in wanted:
        lines = []
        if name in reg.methods:
            lines += check_method(reg.methods[name], document.get(name), cache).lines()
        if name in reg.tasks:
            lines += check_task(reg.tasks[name], document.get(name), cache).lines()
        lines += [f"FAIL  plugin {f.plugin}: loads ({f.error})" for f in reg.failures if f.names(name)]
        for line in lines:
            click.echo(line)
        failed += sum(line.startswith("FAIL") for line in lines)
    click.echo(f"{failed} check(s) failed" if failed else "all checks passed", err=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()

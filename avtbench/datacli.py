"""The data commands: `avtbench convert NAME ...` (the converters dataset plugins declare) and
`avtbench data check [NAME...]`. Light to import: plugins are discovered when a command runs, and a
converter's module is imported only when that converter is invoked (its card names it before)."""
from __future__ import annotations

import sys

import click

from avtbench.errors import UserError
from avtbench.toolkit.commands import EXIT_USER_ERROR, cli_guard


class ConverterGroup(click.Group):
    """`avtbench convert`'s sub-commands: one per converter card (`avtbench.cards.ConverterCard`) of the
    installed plugins; `--help` lists them from their cards, without importing them."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(_converters())

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        from avtbench.plugins import registry

        try:
            converter = registry().converter(name)
            if converter.dataset not in registry().datasets:
                raise UserError(f"converter {name!r} writes dataset {converter.dataset!r}, which no installed plugin "
                                "declares; install the plugin that declares it")
        except UserError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(EXIT_USER_ERROR)
        return converter.command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        try:
            rows = [(c.name, f"{c.summary} [dataset {c.dataset}]") for c in _converters().cards()]
        except Exception:  # a broken plugin never hides the help; `avtbench list` names it
            rows = []
        with formatter.section("Converters"):
            formatter.write_dl(rows or [("(none)", "no installed plugin declares a converter")])


def _converters():
    from avtbench.plugins import registry

    return registry().converters


@click.group(cls=ConverterGroup)
def convert() -> None:
    """Convert files released in another layout into a declared dataset's on-disk format.

    Dataset plugins declare the converters (`avtbench list` shows them); point `data.<dataset>_root` at
    the output folder afterwards."""


@click.group()
def data() -> None:
    """Look at the declared datasets' files: `avtbench data check`."""


@data.command()
@click.argument("names", nargs=-1)
@click.option("--config", "config_file", type=click.Path(dir_okay=False), help="YAML file; its `data` section is read.")
@click.option("--set", "sets", multiple=True, metavar="data.KEY=VALUE", help="Data settings, e.g. data.root=/data/avt.")
@click.option("--synthetic", is_flag=True, help="Also check the datasets that come from the synthetic world (written first if needed).")
@click.option("--cache", "cache_dir", type=click.Path(file_okay=False), help="Artifact cache the synthetic world lives in.")
@cli_guard
def check(names, config_file, sets, synthetic, cache_dir) -> None:
    """Check every declared dataset's files (or those named): where each comes from and, split by split,
    clip counts against the id lists, missing and extra files, shapes, dtypes and non-finite values.

    One line per problem and exit 2 if there is any; a summary line otherwise. Real roots come from
    data.root / data.<name>_root; the synthetic world's copies are checked only with --synthetic."""
    from avtbench import config as cfg
    from avtbench.cache import ArtifactCache
    from avtbench.datacheck import check_data
    from avtbench.plan import DATA_SECTION, data_resolver
    from avtbench.plugins import registry

    document = cfg.merge(cfg.load_yaml(config_file) if config_file else {}, cfg.parse_sets(sets))
    other = sorted(set(document) - {DATA_SECTION})
    if other:
        raise UserError(f"data check reads only the `data` section; drop {', '.join(other)} from --set / --config")
    reg = registry()
    resolver = data_resolver(reg, document, ArtifactCache(cache_dir))
    wanted = list(dict.fromkeys(names)) or sorted(resolver.datasets)
    report = check_data(resolver, wanted, synthetic, click.echo)
    if report.problems:
        click.echo(f"{report.problems} problem(s) in {len(report.checked)} dataset(s) checked; fix the files named "
                   "above (or the data root) and check again", err=True)
        sys.exit(EXIT_USER_ERROR)
    click.echo(report.summary())

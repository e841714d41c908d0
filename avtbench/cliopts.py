"""What the grid commands (`avtbench run`, `avtbench suite run`) share: the options that say how a grid
runs (`grid_options`), and what they parse the same way: comma-separated names, seeds, and the settings
document of `--config` and `--set`."""
from __future__ import annotations

from typing import Callable

import click

from avtbench.errors import UserError

MAX_SEED = 2**32 - 1
"""Seeds are what numpy and torch both accept: integers in [0, 2^32 - 1]."""


def grid_options(executor_help: str) -> Callable[[Callable], Callable]:
    """The options of how a planned grid runs (`gridrun.RunOptions` and the run's log), the same on every
    grid command: --device, --results, --cache, --overwrite, -q, -v, --log, --executor, --retry-failed,
    --loader-workers. `executor_help`: where that command takes the executor's settings from."""
    options = [
        click.option("--device", default="auto", type=click.Choice(["auto", "cpu", "cuda"]), show_default=True),
        click.option("--results", default="results", show_default=True, type=click.Path(file_okay=False),
                     help="Result store folder."),
        click.option("--cache", "cache_dir", type=click.Path(file_okay=False),
                     help="Artifact cache (default $AVTBENCH_CACHE or ~/.cache/avtbench)."),
        click.option("--overwrite", is_flag=True, help="Redo cells whose record exists."),
        click.option("--quiet", "-q", is_flag=True, help="Only errors and the final summary line."),
        click.option("--verbose", "-v", is_flag=True, help="Also per-stage lines on a terminal, and debug details."),
        click.option("--log", "log_path", metavar="FILE", help="Also append plain, timestamped progress lines to FILE."),
        click.option("--executor", "executor_name", default="serial", type=click.Choice(["serial", "ray", "slurm"]),
                     show_default=True, help=executor_help),
        click.option("--retry-failed", is_flag=True,
                     help="Run again the cells that failed before (they are skipped otherwise)."),
        click.option("--loader-workers", default="auto", show_default=True, metavar="N|auto",
                     help="Processes reading corpus batches during pretraining (auto: 0 on CPU, 4 on CUDA)."),
    ]

    def decorate(command: Callable) -> Callable:
        for option in reversed(options):
            command = option(command)
        return command

    return decorate


def split_values(values: tuple[str, ...]) -> list[str]:
    """Accept both `--seed 0 --seed 1` and `--seed 0,1`."""
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def parse_seeds(values: tuple[str, ...], default: tuple[int, ...] = (0,)) -> list[int]:
    """The seeds named (repeated or comma-separated), or `default` when none is."""
    texts = split_values(values)
    if not texts:
        return list(default)
    seeds = []
    for text in texts:
        try:
            seed = int(text)
        except ValueError:
            raise UserError(f"bad seed {text!r}; seeds are integers, e.g. --seed 0 --seed 1 or --seed 0,1,2") from None
        if not 0 <= seed <= MAX_SEED:
            raise UserError(f"seed {seed} is out of range; seeds are integers in [0, {MAX_SEED}]")
        seeds.append(seed)
    return seeds


def settings_document(config_file: str | None, sets: tuple[str, ...]) -> dict:
    """The settings of a config file (if any) with every `--set` applied over them."""
    from avtbench import config as cfg

    return cfg.merge(cfg.load_yaml(config_file) if config_file else {}, cfg.parse_sets(sets))

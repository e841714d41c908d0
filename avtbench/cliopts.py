"""What the grid commands (`avtbench run`, `avtbench suite run`) parse from their options the same way:
comma-separated names, seeds, and the settings document of `--config` and `--set`."""
from __future__ import annotations

from avtbench.errors import UserError

MAX_SEED = 2**32 - 1
"""Seeds are what numpy and torch both accept: integers in [0, 2^32 - 1]."""


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

"""A small toolkit for plugin authors: what the built-in plugins share, offered once.

- `seeded_rng(seed, device=None)`: a block under torch's global RNG seeded with `seed`, the caller's
  RNG state restored after (`rng.py`);
- `synthetic_clip_recipe(config)`, `synthetic_clap_recipe(config)`: the recipes of `synth://clip`
  and `synth://clap` from a method's `synth_clip_*` / `synth_clap_*` settings, so that methods at
  equal settings share one cached backbone (`recipes.py`);
- `cli_guard`: the CLI's error handling for a plugin's click command (`commands.py`);
- `run_or_load_cell(method, task, direction, seed, settings, where)`: a cell read from a result store,
  or run and recorded there, as a grid would (`CellRun`: its record and artifacts folder), for a
  plot or a command; `pretrained(method, seed, settings, where)`: a method pretrained or loaded from
  the cache with the checkpoint key a grid uses; `configured(method, settings)`: its built and
  validated config; `method_corpus(method, settings, where)`: the lazy corpus it pretrains on;
  `cache_root(where)`, `device(where)` (`cells.py`, `Where`: results, cache, device, progress, log);
- `epoch_stats(history)`: a pretraining's per-epoch statistics as `epoch<e>.<key>` entries of the stats
  `pretrain` returns, the training curve the report draws (`read_epoch_stats` reads them; `epochs.py`).

Importing it imports no torch (each function imports what it needs when called): the CLI's light
commands import `cli_guard` from here.
"""
from avtbench.toolkit.cells import (CellRun, Where, cache_root, configured, device, method_corpus, pretrained,
                                    run_or_load_cell)
from avtbench.toolkit.commands import cli_guard
from avtbench.toolkit.epochs import epoch_stats, read_epoch_stats
from avtbench.toolkit.recipes import SynthClapSettings, SynthClipSettings, synthetic_clap_recipe, synthetic_clip_recipe
from avtbench.toolkit.rng import seeded_rng

__all__ = ["seeded_rng", "synthetic_clip_recipe", "synthetic_clap_recipe", "SynthClipSettings", "SynthClapSettings",
           "cli_guard", "CellRun", "Where", "run_or_load_cell", "pretrained", "configured", "method_corpus",
           "cache_root", "device", "epoch_stats", "read_epoch_stats"]

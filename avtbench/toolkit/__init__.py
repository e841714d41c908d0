"""A small toolkit for plugin authors: what the built-in plugins share, offered once.

- `seeded_rng(seed, device=None)`: a block under torch's global RNG seeded with `seed`, the caller's
  RNG state restored after (`rng.py`);
- `synthetic_clip_recipe(config)`, `synthetic_clap_recipe(config)`: the recipes of `synth://clip`
  and `synth://clap` from a method's `synth_clip_*` / `synth_clap_*` settings, so that methods at
  equal settings share one cached backbone (`recipes.py`);
- `cli_guard`: the CLI's error handling for a plugin's click command (`commands.py`).

Importing it imports no torch (each function imports what it needs when called): the CLI's light
commands import `cli_guard` from here.
"""
from avtbench.toolkit.commands import cli_guard
from avtbench.toolkit.recipes import SynthClapSettings, SynthClipSettings, synthetic_clap_recipe, synthetic_clip_recipe
from avtbench.toolkit.rng import seeded_rng

__all__ = ["seeded_rng", "synthetic_clip_recipe", "synthetic_clap_recipe", "SynthClipSettings", "SynthClapSettings",
           "cli_guard"]

"""A small toolkit for plugin authors: what the built-in plugins share, offered once.

- `cli_guard`: the CLI's error handling for a plugin's click command (`commands.py`).

Importing it imports no torch (each function imports what it needs when called): the CLI's light
commands import `cli_guard` from here.
"""
from avtbench.toolkit.commands import cli_guard

__all__ = ["cli_guard"]

"""Where suites come from: the YAML files of the checkout's benchmarks/suites/ (the papers' suites that
ship with avtbench), and what installed plugins hand over through the `avtbench_suites` hook (paths of
suite files, or `Suite` objects). A suite that does not load is listed with its error and never hides
the others; `suite run PATH.yaml` also takes a suite file that is in neither place."""
from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from avtbench.errors import UserError
from avtbench.suites.load import load_suite
from avtbench.suites.model import Suite

if TYPE_CHECKING:
    from avtbench.plugins import Registry

BUILTIN = Path(__file__).resolve().parents[2] / "benchmarks" / "suites"
"""The suites of the source checkout (absent from an installed wheel, which has only the plugins' suites)."""


@dataclass(frozen=True)
class SuiteEntry:
    """A suite found, or the one line saying why the thing found is not a suite."""

    name: str
    origin: str
    suite: Suite | None = None
    error: str = ""


def suite_entries(registry: Registry, folder: Path = BUILTIN) -> list[SuiteEntry]:
    """Every suite of `folder` (*.yaml, by name) and of the plugins, in that order; a later one with a
    name already taken is listed as an error."""
    found: list[SuiteEntry] = []
    for path in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
        found.append(_entry(path.stem, str(path), lambda p=path: load_suite(p)))
    for plugin, item in registry.suites:
        if isinstance(item, Suite):
            found.append(SuiteEntry(item.name, f"plugin {plugin}", item))
        elif isinstance(item, (str, Path)):
            found.append(_entry(Path(item).stem, f"plugin {plugin}", lambda p=Path(item): load_suite(p)))
        else:
            found.append(SuiteEntry(repr(item)[:40], f"plugin {plugin}",
                                    error=f"avtbench_suites returned {item!r}, not a suite file's path or a Suite"))
    seen: dict[str, str] = {}
    out = []
    for entry in found:
        if entry.suite is not None and entry.name in seen:
            entry = SuiteEntry(entry.name, entry.origin, error=f"suite name {entry.name!r} is taken by {seen[entry.name]}")
        elif entry.suite is not None:
            seen[entry.name] = entry.origin
        out.append(entry)
    return out


def _entry(stem: str, origin: str, load) -> SuiteEntry:
    try:
        suite = load()
    except UserError as exc:
        return SuiteEntry(stem, origin, error=str(exc))
    return SuiteEntry(suite.name, origin, suite)


def find_suite(registry: Registry, name: str, folder: Path = BUILTIN) -> Suite:
    """The suite called `name`, or in the file `name` (a path ending in .yaml / .yml)."""
    if name.endswith((".yaml", ".yml")):
        return load_suite(name)
    entries = suite_entries(registry, folder)
    for entry in entries:
        if entry.name == name:
            if entry.suite is None:
                raise UserError(entry.error if entry.error.startswith("suite ") else f"suite {name}: {entry.error}")
            return entry.suite
    names = sorted({e.name for e in entries if e.suite is not None})
    close = difflib.get_close_matches(name, names, n=1)
    hint = f"did you mean {close[0]!r}?" if close else f"known suites: {', '.join(names) or 'none'}"
    raise UserError(f"unknown suite {name!r}; {hint} (see `avtbench suite list`, or give a suite .yaml file)")

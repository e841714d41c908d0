"""Entry-point discovery: every plugin is loaded in isolation, so one broken plugin never hides the others.

Discovery imports each entry point's module and calls its hooks: `avtbench_cards` hands over cards
(`avtbench.cards`), whose objects are imported only when first used; the other hooks hand over the
objects themselves. Nothing here imports `avtbench.api` (nor numpy, nor torch) until an object is
checked, so `avtbench list` and `--help` stay light.
"""
from __future__ import annotations

import difflib
import importlib.metadata
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterable

import pluggy

from avtbench import hookspecs
from avtbench.cards import Card, CommandCard, ConverterCard, DatasetCard, ExtractorCard, MethodCard, PlotCard, TaskCard
from avtbench.catalog import Catalog, PluginFailure, UnusablePlugin, describe
from avtbench.errors import UserError

if TYPE_CHECKING:
    import click

    from avtbench.api import Converter, Dataset, Method, Task
    from avtbench.extractors import Extractor
    from avtbench.plots import Plot
    from avtbench.report.sections import ReportSection

__all__ = ["GROUP", "PluginFailure", "UnusablePlugin", "Registry", "discover", "registry"]

GROUP = hookspecs.PROJECT


@dataclass(eq=False)
class Registry:
    """What the installed plugins provide, by kind and name (each a `Catalog`), and what failed."""

    failures: list[PluginFailure] = field(default_factory=list)
    methods: "Catalog[type[Method]]" = field(init=False)
    tasks: "Catalog[type[Task]]" = field(init=False)
    datasets: "Catalog[Dataset]" = field(init=False)
    plots: "Catalog[Plot]" = field(init=False)
    commands: "Catalog[click.Command]" = field(init=False)
    """click commands contributed by plugins, by name."""
    converters: "Catalog[Converter]" = field(init=False)
    """`avtbench convert NAME`'s converters, by name (cards only)."""
    extractors: "Catalog[type[Extractor]]" = field(init=False)
    """Feature extractors (`avtbench extract --audio/--visual NAME`), by name."""
    sections: "list[ReportSection]" = field(default_factory=list)
    """Sections plugins add to `avtbench report`'s cell pages (hook `avtbench_report_sections`), by name."""
    suites: list[tuple[str, Any]] = field(default_factory=list)
    """(plugin, what its `avtbench_suites` hook returned: a suite file's path or a `Suite`), read by
    `avtbench.suites.catalog` when suites are listed or named."""

    def __post_init__(self) -> None:
        self.methods = Catalog(MethodCard, _subclass_of("Method"), self.failures)
        self.tasks = Catalog(TaskCard, _subclass_of("Task"), self.failures)
        self.datasets = Catalog(DatasetCard, _instance_of("avtbench.api", "Dataset"), self.failures)
        self.plots = Catalog(PlotCard, _instance_of("avtbench.plots", "Plot"), self.failures)
        self.commands = Catalog(CommandCard, _click_command, self.failures)
        self.converters = Catalog(ConverterCard, _instance_of("avtbench.api", "Converter"), self.failures)
        self.extractors = Catalog(ExtractorCard, _extractor_class, self.failures)

    def catalogs(self) -> dict[str, Catalog]:
        return {"method": self.methods, "task": self.tasks, "dataset": self.datasets, "plot": self.plots,
                "command": self.commands, "converter": self.converters, "extractor": self.extractors}

    @property
    def origins(self) -> dict[str, str]:
        """"<kind>:<name>" -> the plugin that provided it."""
        return {f"{kind}:{name}": catalog.plugin(name) for kind, catalog in self.catalogs().items() for name in catalog}

    def copy(self) -> "Registry":
        """A registry to add classes to (`run_cell`) without touching this one."""
        twin = Registry(list(self.failures))
        twin.methods, twin.tasks = self.methods.copy(twin.failures), self.tasks.copy(twin.failures)
        twin.datasets, twin.plots = self.datasets.copy(twin.failures), self.plots.copy(twin.failures)
        twin.commands, twin.converters = self.commands.copy(twin.failures), self.converters.copy(twin.failures)
        twin.extractors = self.extractors.copy(twin.failures)
        twin.sections = list(self.sections)
        twin.suites = list(self.suites)
        return twin

    def method(self, name: str) -> type[Method]:
        return _lookup(self.methods, name)

    def task(self, name: str) -> type[Task]:
        return _lookup(self.tasks, name)

    def dataset(self, name: str) -> Dataset:
        return _lookup(self.datasets, name)

    def plot(self, name: str) -> Plot:
        return _lookup(self.plots, name)

    def converter(self, name: str) -> Converter:
        return _lookup(self.converters, name)

    def extractor(self, name: str) -> type[Extractor]:
        return _lookup(self.extractors, name)

    def require_checkable(self, name: str) -> None:
        """For `avtbench check`: return when `name` is an installed method or task, or a plugin that failed
        to load (its check reports that); raise the one-line error of an unusable or unknown name."""
        for catalog in (self.methods, self.tasks):
            if name in catalog:
                try:
                    catalog[name]  # imported here: an unusable class is bad input, before any check runs
                except UserError:
                    pass  # recorded in failures
        if name in self.methods or name in self.tasks:
            return
        failures = [f for f in self.failures if f.names(name)]
        unusable = [f for f in failures if f.unusable]
        if unusable:
            raise unusable[0].cannot_run()
        if not failures:
            hint = _close_hint(name, [*self.methods, *self.tasks]) or "see `avtbench list` for the installed methods and tasks"
            raise UserError(f"no installed method or task is named {name!r}; {hint}")


def _lookup(catalog: Catalog, name: str) -> Any:
    kind = catalog.kind
    if name in catalog:
        return catalog[name]
    broken = [f for f in catalog.failures if f.plugin == name or f.target == f"{kind} {name}"]
    if broken:
        raise broken[0].error_for(kind, name)
    hint = _close_hint(name, catalog) or f"known {kind}s: {', '.join(sorted(catalog)) or 'none'}"
    raise UserError(f"unknown {kind} {name!r}; {hint} (see `avtbench list`)")


def _close_hint(name: str, known: Iterable[str]) -> str | None:
    """"did you mean 'x'?" for the closest known name, or None when none is close."""
    close = difflib.get_close_matches(name, list(known), n=1)
    return f"did you mean {close[0]!r}?" if close else None


def discover(entry_points: Iterable[importlib.metadata.EntryPoint] | None = None) -> Registry:
    """Load every plugin of the group and collect what its hooks return (cards first, then objects)."""
    if entry_points is None:
        entry_points = importlib.metadata.entry_points(group=GROUP)
    manager = pluggy.PluginManager(GROUP)
    manager.add_hookspecs(hookspecs)
    registry = Registry()
    for ep in sorted(entry_points, key=lambda e: e.name):
        try:
            manager.register(ep.load(), name=ep.name)
        except Exception as exc:  # a plugin may fail in any way; it must not take the others down
            registry.failures.append(PluginFailure(ep.name, ep.value, describe(exc)))
    _collect_cards(manager.hook.avtbench_cards, registry)
    hooks = manager.hook
    for hook, catalog in ((hooks.avtbench_methods, registry.methods), (hooks.avtbench_tasks, registry.tasks),
                          (hooks.avtbench_datasets, registry.datasets), (hooks.avtbench_plots, registry.plots),
                          (hooks.avtbench_commands, registry.commands), (hooks.avtbench_extractors, registry.extractors)):
        _collect(hook, catalog)
    _collect_sections(hooks.avtbench_report_sections, registry)
    _collect_suites(hooks.avtbench_suites, registry)
    return registry


def _collect_sections(hook: Any, registry: Registry) -> None:
    """Add the report sections every implementation returns; a bad or clashing one is recorded, not raised."""
    from avtbench.report.sections import ReportSection

    for impl in hook.get_hookimpls():
        try:
            sections = list(impl.function() or [])
            for section in sections:
                if not isinstance(section, ReportSection):
                    raise TypeError(f"{section!r} is not an avtbench.report.sections.ReportSection")
        except Exception as exc:
            registry.failures.append(PluginFailure(impl.plugin_name, hook.name, describe(exc)))
            continue
        for section in sections:
            taken = [s for s in registry.sections if s.name == section.name]
            if taken:
                registry.failures.append(PluginFailure(impl.plugin_name, f"report section {section.name}",
                                                       f"report section name {section.name!r} already provided"))
                continue
            registry.sections.append(section)


def _collect_suites(hook: Any, registry: Registry) -> None:
    """Keep what every implementation of `avtbench_suites` returns; one that raises is recorded, not raised."""
    for impl in hook.get_hookimpls():
        try:
            provided = list(impl.function() or [])
        except Exception as exc:
            registry.failures.append(PluginFailure(impl.plugin_name, hook.name, describe(exc)))
            continue
        registry.suites.extend((impl.plugin_name, item) for item in provided)


def _collect_cards(hook: Any, registry: Registry) -> None:
    """Add the cards every implementation of `avtbench_cards` returns; a bad or clashing one is recorded."""
    catalogs = registry.catalogs()
    for impl in hook.get_hookimpls():
        try:
            cards = list(impl.function() or [])
            for card in cards:
                if not isinstance(card, Card) or card.kind not in catalogs or not card.target:
                    raise TypeError(f"{card!r} is not a card of avtbench.cards with a target")
        except Exception as exc:
            registry.failures.append(PluginFailure(impl.plugin_name, hook.name, describe(exc)))
            continue
        for card in cards:
            catalogs[card.kind].add_card(card, impl.plugin_name)


def _collect(hook: Any, catalog: Catalog) -> None:
    """Add what every implementation of `hook` returns; a failing or clashing one is recorded, not raised."""
    for impl in hook.get_hookimpls():
        try:
            provided = list(impl.function() or [])
            for item in provided:
                catalog.check(item)
        except UnusablePlugin as exc:
            catalog.failures.append(PluginFailure(impl.plugin_name, exc.target, exc.problem, unusable=True, provides=exc.name))
            continue
        except Exception as exc:
            catalog.failures.append(PluginFailure(impl.plugin_name, hook.name, describe(exc)))
            continue
        for item in provided:
            catalog.add(item, impl.plugin_name)


def _subclass_of(base_name: str) -> Callable[[Any], None]:
    def check(cls: Any) -> None:
        from avtbench import api
        from avtbench.compat import unusable

        base = getattr(api, base_name)
        if not (isinstance(cls, type) and issubclass(cls, base)):
            raise TypeError(f"{cls!r} is not a subclass of avtbench.api.{base_name}")
        if not getattr(cls, "name", None):
            raise TypeError(f"{cls.__qualname__} has no `name`")
        problem = unusable(cls)
        if problem is not None:
            raise UnusablePlugin(base_name.lower(), cls.name, problem)
    return check


def _instance_of(module: str, name: str) -> Callable[[Any], None]:
    def check(item: Any) -> None:
        kind = getattr(importlib.import_module(module), name)
        if not isinstance(item, kind):
            raise TypeError(f"{item!r} is not an {module}.{name}")
        if not getattr(item, "name", None):
            raise TypeError(f"{item!r} has no `name`")
    return check


def _extractor_class(cls: Any) -> None:
    from avtbench.extractors import MODALITIES, Extractor

    if not (isinstance(cls, type) and issubclass(cls, Extractor)):
        raise TypeError(f"{cls!r} is not a subclass of avtbench.extractors.Extractor")
    if not getattr(cls, "name", None):
        raise TypeError(f"{cls.__qualname__} has no `name`")
    if getattr(cls, "modality", None) not in MODALITIES:
        raise TypeError(f"extractor {cls.name!r} has modality {getattr(cls, 'modality', None)!r}, not 'audio' or 'visual'")


def _click_command(item: Any) -> None:
    import click

    if not isinstance(item, click.Command) or not item.name:
        raise TypeError(f"{item!r} is not a named click.Command")


_REGISTRY: Registry | None = None


def registry() -> Registry:
    """The process-wide registry, discovered on first use."""
    global _REGISTRY
    if _REGISTRY is None:
        _REGISTRY = discover()
    return _REGISTRY

"""Entry-point discovery: every plugin is loaded in isolation, so one broken plugin never hides the others."""
from __future__ import annotations

import difflib
import importlib.metadata
from dataclasses import dataclass, field
from typing import Any, Iterable

import pluggy

from avtbench import hookspecs
from avtbench.api import Dataset, Method, Task, UserError
from avtbench.compat import unusable
from avtbench.plots import Plot

GROUP = hookspecs.PROJECT


@dataclass
class PluginFailure:
    plugin: str
    target: str
    error: str
    unusable: bool = False
    """It loaded, but was written for another plugin API (or misses part of this one): it cannot run here."""

    def names(self, name: str) -> bool:
        """Whether this failure is of plugin `name` or of the method / task `name` it provides."""
        return name == self.plugin or (self.unusable and self.target.split(" ", 1)[-1] == name)

    def cannot_run(self) -> UserError:
        return UserError(f"{self.target} (plugin {self.plugin!r}) cannot run here: {self.error}")


class UnusablePlugin(TypeError):
    """A class a plugin hands over that this avtbench cannot run (`compat.unusable` says why)."""

    def __init__(self, kind: str, name: str, problem: str) -> None:
        super().__init__(f"{kind} {name!r} {problem}")
        self.target, self.problem = f"{kind} {name}", problem


@dataclass
class Registry:
    methods: dict[str, type[Method]] = field(default_factory=dict)
    tasks: dict[str, type[Task]] = field(default_factory=dict)
    datasets: dict[str, Dataset] = field(default_factory=dict)
    commands: dict[str, Any] = field(default_factory=dict)
    """click commands contributed by plugins, by name."""
    plots: dict[str, Plot] = field(default_factory=dict)
    origins: dict[str, str] = field(default_factory=dict)
    """"<kind>:<name>" -> the plugin that provided it."""
    failures: list[PluginFailure] = field(default_factory=list)

    def method(self, name: str) -> type[Method]:
        return _lookup("method", name, self.methods, self.failures)

    def task(self, name: str) -> type[Task]:
        return _lookup("task", name, self.tasks, self.failures)

    def dataset(self, name: str) -> Dataset:
        return _lookup("dataset", name, self.datasets, self.failures)

    def plot(self, name: str) -> Plot:
        return _lookup("plot", name, self.plots, self.failures)

    def require_checkable(self, name: str) -> None:
        """For `avtbench check`: return when `name` is an installed method or task, or a plugin that failed
        to load (its check reports that); raise the one-line error of an unusable or unknown name."""
        if name in self.methods or name in self.tasks:
            return
        failures = [f for f in self.failures if f.names(name)]
        unusable = [f for f in failures if f.unusable]
        if unusable:
            raise unusable[0].cannot_run()
        if not failures:
            hint = _close_hint(name, {**self.methods, **self.tasks}) or "see `avtbench list` for the installed methods and tasks"
            raise UserError(f"no installed method or task is named {name!r}; {hint}")


def _lookup(kind: str, name: str, known: dict[str, Any], failures: list[PluginFailure]) -> Any:
    if name in known:
        return known[name]
    broken = [f for f in failures if f.plugin == name or f.target == f"{kind} {name}"]
    if broken and broken[0].unusable:
        raise broken[0].cannot_run()
    if broken:
        raise UserError(f"{kind} plugin {name!r} failed to load ({broken[0].error}); run `avtbench list` and fix or reinstall it")
    hint = _close_hint(name, known) or f"known {kind}s: {', '.join(sorted(known)) or 'none'}"
    raise UserError(f"unknown {kind} {name!r}; {hint} (see `avtbench list`)")


def _close_hint(name: str, known: Iterable[str]) -> str | None:
    """"did you mean 'x'?" for the closest known name, or None when none is close."""
    close = difflib.get_close_matches(name, list(known), n=1)
    return f"did you mean {close[0]!r}?" if close else None


def discover(entry_points: Iterable[importlib.metadata.EntryPoint] | None = None) -> Registry:
    """Load every plugin of the group and collect what its hooks return."""
    if entry_points is None:
        entry_points = importlib.metadata.entry_points(group=GROUP)
    manager = pluggy.PluginManager(GROUP)
    manager.add_hookspecs(hookspecs)
    registry = Registry()
    for ep in sorted(entry_points, key=lambda e: e.name):
        try:
            manager.register(ep.load(), name=ep.name)
        except Exception as exc:  # a plugin may fail in any way; it must not take the others down
            registry.failures.append(PluginFailure(ep.name, ep.value, _describe(exc)))
    _collect(manager.hook.avtbench_methods, "method", _subclass_of(Method), registry.methods, registry)
    _collect(manager.hook.avtbench_tasks, "task", _subclass_of(Task), registry.tasks, registry)
    _collect(manager.hook.avtbench_datasets, "dataset", _instance_of(Dataset), registry.datasets, registry)
    _collect(manager.hook.avtbench_plots, "plot", _instance_of(Plot), registry.plots, registry)
    _collect(manager.hook.avtbench_commands, "command", _click_command, registry.commands, registry)
    return registry


def _collect(hook: Any, kind: str, check: Any, into: dict[str, Any], registry: Registry) -> None:
    """Add what every implementation of `hook` returns; a failing or clashing one is recorded, not raised."""
    for impl in hook.get_hookimpls():
        try:
            provided = list(impl.function() or [])
            for item in provided:
                check(item)
        except UnusablePlugin as exc:
            registry.failures.append(PluginFailure(impl.plugin_name, exc.target, exc.problem, unusable=True))
            continue
        except Exception as exc:
            registry.failures.append(PluginFailure(impl.plugin_name, hook.name, _describe(exc)))
            continue
        for item in provided:
            name = item.name
            if name in into and into[name] is not item:
                registry.failures.append(PluginFailure(
                    impl.plugin_name, f"{kind} {name}",
                    f"{kind} name {name!r} already provided by plugin {registry.origins[f'{kind}:{name}']!r}"))
                continue
            into[name] = item
            registry.origins[f"{kind}:{name}"] = impl.plugin_name


def _subclass_of(base: type) -> Any:
    def check(cls: Any) -> None:
        if not (isinstance(cls, type) and issubclass(cls, base)):
            raise TypeError(f"{cls!r} is not a subclass of avtbench.api.{base.__name__}")
        if not getattr(cls, "name", None):
            raise TypeError(f"{cls.__qualname__} has no `name`")
        problem = unusable(cls)
        if problem is not None:
            raise UnusablePlugin(base.__name__.lower(), cls.name, problem)
    return check


def _instance_of(kind: type) -> Any:
    def check(item: Any) -> None:
        if not isinstance(item, kind):
            raise TypeError(f"{item!r} is not an {kind.__module__}.{kind.__name__}")
        if not getattr(item, "name", None):
            raise TypeError(f"{item!r} has no `name`")
    return check


def _click_command(item: Any) -> None:
    import click

    if not isinstance(item, click.Command) or not item.name:
        raise TypeError(f"{item!r} is not a named click.Command")


def _describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")


_REGISTRY: Registry | None = None


def registry() -> Registry:
    """The process-wide registry, discovered on first use."""
    global _REGISTRY
    if _REGISTRY is None:
        _REGISTRY = discover()
    return _REGISTRY
